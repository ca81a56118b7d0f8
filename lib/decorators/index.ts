export * from './authenticated.decorator.js';
export * from './current-session.decorator.js';
export * from './public.decorator.js';
