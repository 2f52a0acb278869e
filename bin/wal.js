#!/usr/bin/env node
// Runs the TypeScript CLI directly: no build step between a checkout and `wal`.
import { register } from "tsx/esm/api";

register();
await import("../services/cli/main.ts");
