#!/usr/bin/env node
import { runTitan } from '../dist/src/cli/main.js';

runTitan();
