export * from './authenticated.decorator.js';
export * from './current-session.decorator.js';
export * from './skip.decorator.js';
