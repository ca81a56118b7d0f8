import { Controller, Get, Module } from '@nestjs/common';
import { HealthController, meBody } from './common.js';

/** No authentication: the framework's upper bound. */
@Controller()
class BareController {
  @Get('me')
  me() {
    return meBody('user-0');
  }
}

@Module({ controllers: [HealthController, BareController] })
export class BareModule {}
