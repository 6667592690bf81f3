/** Injection token for the parsed HostConfig. */
export const HOST_CONFIG = Symbol('HOST_CONFIG');
