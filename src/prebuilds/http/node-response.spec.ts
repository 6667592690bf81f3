import { describe, expect, it, jest } from '@jest/globals';
import { nodeResponseOf, takeOverResponse } from './node-response.js';

describe('the response behind @Res(), on either platform', () => {
  const nodeResponse = { writeHead: () => undefined };

  it("is Express's response itself, and taking it over asks nothing of it", () => {
    expect(nodeResponseOf(nodeResponse)).toBe(nodeResponse);
    expect(takeOverResponse(nodeResponse)).toBe(nodeResponse);
  });

  it("is a Fastify reply's raw, and taking it over hijacks the reply first", () => {
    const hijack = jest.fn();
    const reply = { raw: nodeResponse, hijack };
    expect(nodeResponseOf(reply)).toBe(nodeResponse);
    expect(hijack).not.toHaveBeenCalled();
    expect(takeOverResponse(reply)).toBe(nodeResponse);
    expect(hijack).toHaveBeenCalledTimes(1);
  });
});
