// Debian's chromium (installed by deploy/testenv/up), driven by playwright-core: never a downloaded
// browser. Flags as this machine needs them: no sandbox as root, and no background networking (the
// closed network refuses those connections).
import { chromium, type Browser as PlaywrightBrowser, type Page as PlaywrightPage } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { testEnv } from './test-env';

export type ChromiumBrowser = PlaywrightBrowser;
export type ChromiumPage = PlaywrightPage;

function chromiumPath(): string {
  try {
    return testEnv('CHROMIUM_BIN');
  } catch {
    if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
    throw new Error('chromium is not installed: run `npm run testenv:up` (it installs Debian\'s chromium)');
  }
}

export function launchChromium(): Promise<ChromiumBrowser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** test-output/<suite>/ at the repository root (git-ignored): where browser tests keep their screenshots. */
export function testOutputDir(suite: string): string {
  const dir = join(__dirname, '..', '..', '..', 'test-output', suite);
  mkdirSync(dir, { recursive: true });
  return dir;
}
