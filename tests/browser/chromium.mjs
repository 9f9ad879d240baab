// Debian's Chromium through playwright-core, as the browser tests start it: headless, off the
// network but for the page's own origin, with no profile. The browser is $CHROMIUM, else
// /usr/bin/chromium (nothing downloads one).
import { chromium } from "playwright-core";

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export function launch(timeoutMs) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    timeout: timeoutMs,
  });
}
