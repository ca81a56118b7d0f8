/** Real User-Agent strings (as sent by current releases) and the device label each should get. */
export const USER_AGENTS: Array<{ name: string; ua: string; device: string }> = [
  {
    name: 'Chrome on macOS',
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    device: 'Chrome 131 on macOS',
  },
  {
    name: 'Firefox on Windows',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
    device: 'Firefox 133 on Windows',
  },
  {
    name: 'Safari on iOS',
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
    device: 'Safari 17 on iOS',
  },
  {
    // Edge names itself only in its last token ("Edg/"), past the 64 bytes of User-Agent the store keeps.
    name: 'Edge on Windows',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
    device: 'Microsoft Edge 131 on Windows',
  },
  {
    name: 'Chrome on Android',
    ua: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    device: 'Chrome 131 on Android',
  },
  { name: 'curl', ua: 'curl/8.5.0', device: 'curl 8' },
];

/** Hostile or empty User-Agents: the label is still short, printable and made of known parts. */
export const HOSTILE_USER_AGENTS: Array<{ name: string; ua: string; device: string }> = [
  { name: 'empty', ua: '', device: 'Unknown device' },
  {
    name: 'markup and control-free garbage',
    ua: '<script>alert(1)</script> %00 ${jndi:ldap://x}',
    device: 'Unknown device',
  },
  { name: '8 KB of one letter', ua: 'A'.repeat(8000), device: 'Unknown device' },
  {
    name: 'a 300-digit Chrome version',
    ua: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${'9'.repeat(300)} Safari/537.36`,
    device: 'Chrome on Linux',
  },
  {
    // bowser takes an unknown product token as the browser name: only a plain one gets through.
    name: 'a product token with markup',
    ua: 'Evil<img src=x>/1.0 (Windows NT 10.0)',
    device: 'Unknown browser on Windows',
  },
  { name: 'a 200-character product name', ua: `${'x'.repeat(200)}/1.0`, device: 'Unknown device' },
];
