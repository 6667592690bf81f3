import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** OpenAPI at /docs (UI) and /docs-json, built from the controllers' decorators and DTOs. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Prebuilds control plane')
    .setDescription(
      'Warm pools of prebuilt workspaces. Every route but the probes and /metrics needs `Authorization: Bearer <token>`; ' +
        'the permission each route requires is listed in its description and as `x-required-permission`.',
    )
    .setVersion('2')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'opaque API token',
      description: 'Authorization: Bearer <token>',
    })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
