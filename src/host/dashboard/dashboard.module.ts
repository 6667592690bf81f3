import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller.js';

/** `GET /`: the operators' dashboard (static files; all data comes from the JSON API with the operator's token). */
@Module({ controllers: [DashboardController] })
export class DashboardModule {}
