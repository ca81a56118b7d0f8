import { readFileSync } from 'node:fs';
import { Controller, Get, Header } from '@nestjs/common';
import { apiPrefixFromEnv } from './api-prefix.config.js';

const asset = (name: string) => readFileSync(new URL(`./public/${name}`, import.meta.url), 'utf8');
const PAGE = asset('index.html');
const SCRIPT = asset('demo.js');
const STYLE = asset('demo.css');

/**
 * The page loads only its own files (no inline script, style or handlers), so an injected script
 * or style cannot run: everything is 'self', the rest 'none'.
 */
export const DEMO_PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'";

/** `GET /`: the demo page (DESIGN.md, the sample's contract) and the two files it loads. */
@Controller()
export class DemoPageController {
  // API_PREFIX allows only path-segment characters, so it needs no HTML escaping.
  private readonly page = PAGE.replace(
    '<meta name="api-base" content="" />',
    `<meta name="api-base" content="${apiPrefixFromEnv() ? `/${apiPrefixFromEnv()}` : ''}" />`,
  );

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', DEMO_PAGE_CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  index(): string {
    return this.page;
  }

  @Get('demo.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  script(): string {
    return SCRIPT;
  }

  @Get('demo.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  style(): string {
    return STYLE;
  }
}
