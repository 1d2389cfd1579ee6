// Jest setupFile: exposes the test environment's addresses as process.env, without overriding
// anything the caller set explicitly.
import { readTestEnvFile } from './test-env';

for (const [key, value] of Object.entries(readTestEnvFile())) {
  if (process.env[key] === undefined) process.env[key] = value;
}
