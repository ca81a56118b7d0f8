export * from './redis-client.interface.js';
export * from './session-event.interface.js';
export * from './session-module-options.interface.js';
export * from './session-record.interface.js';
export * from './session-repository.interface.js';
