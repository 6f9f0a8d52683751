#!/usr/bin/env node
// The `ews` command. Sources are TypeScript run through tsx's loader, so
// `npx ews …` works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../workers/cli/main.ts');
// Exit explicitly: a dependency's exit hook would otherwise turn a failure into 0.
process.exit(await main(process.argv.slice(2)));
