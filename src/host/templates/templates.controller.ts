import { Body, Delete, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import {
  type CreatedTemplate,
  type CreatedVersion,
  PrebuildsController,
  RequirePermission,
  type TemplateView,
  UuidParam,
} from 'nest-prebuilds';
import { CreateTemplateDto } from './dto/create-template.dto.js';
import { CreateVersionDto } from './dto/create-version.dto.js';
import { TemplatesService } from './templates.service.js';

@PrebuildsController('templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Post()
  @RequirePermission('templates:update')
  @ApiOperation({ summary: 'Create a template with its first, active version' })
  createTemplate(@Body() dto: CreateTemplateDto): Promise<CreatedTemplate> {
    return this.templates.createTemplate(dto);
  }

  @Post(':id/versions')
  @RequirePermission('templates:update')
  @ApiOperation({ summary: 'Add a version (active when `activate` is true)' })
  createVersion(@UuidParam('id') id: string, @Body() dto: CreateVersionDto): Promise<CreatedVersion> {
    return this.templates.createVersion(id, dto);
  }

  @Get(':id')
  @RequirePermission('templates:read')
  getTemplate(@UuidParam('id') id: string): Promise<TemplateView> {
    return this.templates.getTemplate(id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('templates:update')
  @ApiOperation({ summary: 'Soft-delete a template; its prebuilds are then deleted by the reconciler' })
  deleteTemplate(@UuidParam('id') id: string): Promise<void> {
    return this.templates.softDeleteTemplate(id);
  }
}
