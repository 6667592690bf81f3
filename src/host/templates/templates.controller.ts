import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  ValidationPipe,
} from '@nestjs/common';
import { CreateTemplateDto } from './dto/create-template.dto.js';
import { CreateVersionDto } from './dto/create-version.dto.js';
import { TemplatesService } from './templates.service.js';
import type { CreatedTemplate, CreatedVersion, TemplateView } from './templates.types.js';

/**
 * Bodies are validated here rather than by a global pipe, so that these routes reject unknown fields whatever the
 * host configures globally.
 */
const body = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

@Controller('templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Post()
  createTemplate(@Body(body) dto: CreateTemplateDto): Promise<CreatedTemplate> {
    return this.templates.createTemplate(dto);
  }

  @Post(':id/versions')
  createVersion(
    @Param('id', ParseUUIDPipe) id: string,
    @Body(body) dto: CreateVersionDto,
  ): Promise<CreatedVersion> {
    return this.templates.createVersion(id, dto);
  }

  @Get(':id')
  getTemplate(@Param('id', ParseUUIDPipe) id: string): Promise<TemplateView> {
    return this.templates.getTemplate(id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  deleteTemplate(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.templates.softDeleteTemplate(id);
  }
}
