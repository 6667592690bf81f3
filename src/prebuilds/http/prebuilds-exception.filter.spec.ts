import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { type ArgumentsHost, HttpException, NotFoundException } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { PrebuildsBodyErrorFilter } from './prebuilds-body-error.filter.js';
import { PrebuildsExceptionFilter } from './prebuilds-exception.filter.js';

function fakeAdapter(headersSent = false) {
  return {
    reply: jest.fn<(response: unknown, body: unknown, status: number) => void>(),
    isHeadersSent: jest.fn(() => headersSent),
  };
}

function hostFor(response: object = {}): ArgumentsHost {
  const request = {
    method: 'GET',
    url: '/api/v2/prebuilds/status?x=1',
    route: { path: '/api/v2/prebuilds/status' },
  };
  return {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response, getNext: () => () => {} }),
    getArgByIndex: (index: number) => [request, response][index],
    getArgs: () => [request, response],
    getType: () => 'http',
  } as unknown as ArgumentsHost;
}

describe('PrebuildsExceptionFilter', () => {
  let error: jest.Spied<PrebuildsLogger['error']>;

  beforeEach(() => {
    error = jest.spyOn(PrebuildsLogger.prototype, 'error').mockImplementation(() => undefined);
    error.mockClear();
  });

  it('replies with { statusCode, code, message } and the mapped status', () => {
    const adapter = fakeAdapter();
    const filter = new PrebuildsExceptionFilter({ httpAdapter: adapter } as unknown as HttpAdapterHost);
    const response = {};
    filter.catch(
      new PrebuildsException(PrebuildsErrorCode.ReconcileInProgress, 'another replica'),
      hostFor(response),
    );
    expect(adapter.reply).toHaveBeenCalledWith(
      response,
      { statusCode: 409, code: 'RECONCILE_IN_PROGRESS', message: 'another replica' },
      409,
    );
    expect(error).not.toHaveBeenCalled();
  });

  it('logs an unexpected error with its details and answers a generic 500', () => {
    const adapter = fakeAdapter();
    const filter = new PrebuildsExceptionFilter({ httpAdapter: adapter } as unknown as HttpAdapterHost);
    const boom = new Error('connection to 10.0.0.3 refused');
    filter.catch(boom, hostFor());
    expect(adapter.reply.mock.calls[0][1]).toEqual({
      statusCode: 500,
      code: 'INTERNAL',
      message: 'internal error',
    });
    expect(error).toHaveBeenCalledWith({
      msg: 'request failed',
      event: 'internal_error',
      route: 'GET /api/v2/prebuilds/status',
      err: boom,
    });
  });

  it('does not try to answer once headers are sent', () => {
    const adapter = fakeAdapter(true);
    const filter = new PrebuildsExceptionFilter({ httpAdapter: adapter } as unknown as HttpAdapterHost);
    filter.catch(new Error('mid-stream'), hostFor());
    expect(adapter.reply).not.toHaveBeenCalled();
  });
});

describe('PrebuildsBodyErrorFilter', () => {
  it('answers body-parser errors in our shape', () => {
    const adapter = fakeAdapter();
    const filter = new PrebuildsBodyErrorFilter(adapter as never);
    const cause = Object.assign(new Error('request entity too large'), {
      status: 413,
      statusCode: 413,
      type: 'entity.too.large',
      limit: 100,
    });
    filter.catch(new HttpException(cause.message, 413, { cause }), hostFor());
    expect(adapter.reply.mock.calls[0][1]).toEqual({
      statusCode: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: 'body: larger than the limit of 100 bytes',
    });
  });

  it("leaves every other error to Nest's default handling", () => {
    const adapter = fakeAdapter();
    const filter = new PrebuildsBodyErrorFilter(adapter as never);
    filter.catch(new NotFoundException('Cannot GET /x'), hostFor());
    expect(adapter.reply.mock.calls[0][1]).toEqual({
      statusCode: 404,
      message: 'Cannot GET /x',
      error: 'Not Found',
    });
  });
});
