import { Delete, Get, Header, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiNotFoundResponse, ApiOperation } from '@nestjs/swagger';
import { ProvisionerKeyService } from '../provisioner/provisioner-key.service.js';
import { RequirePermission } from '../rbac/require-permission.decorator.js';
import { CreateProvisionerKeyDto } from './dto/provisioner-key.dto.js';
import { UuidParam } from './id-param.decorators.js';
import { PrebuildsController } from './prebuilds-controller.decorator.js';
import { StrictBody } from './strict-body.decorator.js';

/** Operators manage the keys external provisioner daemons authenticate with. */
@PrebuildsController('provisioner-keys', 'provisioners')
export class ProvisionerKeysController {
  constructor(private readonly keys: ProvisionerKeyService) {}

  @Post()
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @RequirePermission('provisioners:admin')
  @ApiOperation({ summary: 'Create a provisioner key; the answer is the only time its `key` is shown' })
  @ApiBody({ type: CreateProvisionerKeyDto })
  @ApiCreatedResponse({ description: '{ id, name, tags, createdAt, revokedAt: null, key }' })
  create(@StrictBody(CreateProvisionerKeyDto) dto: CreateProvisionerKeyDto) {
    return this.keys.create(dto.name, dto.tags ?? {});
  }

  @Get()
  @RequirePermission('provisioners:admin')
  @ApiOperation({ summary: 'Every provisioner key, live and revoked, without its secret' })
  list() {
    return this.keys.list();
  }

  @Delete(':id')
  @HttpCode(200)
  @RequirePermission('provisioners:admin')
  @ApiOperation({ summary: 'Revoke a provisioner key: every replica refuses it from the next call on' })
  @ApiNotFoundResponse({ description: 'unknown key (code PROVISIONER_KEY_NOT_FOUND)' })
  revoke(@UuidParam('id') id: string) {
    return this.keys.revoke(id);
  }
}
