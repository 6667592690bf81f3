import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';

/** Acme's own error shape, installed globally. */
@Catch()
export class AcmeExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    const message = exception instanceof Error ? exception.message : 'error';
    host.switchToHttp().getResponse().status(status).json({ acmeError: { status, message } });
  }
}
