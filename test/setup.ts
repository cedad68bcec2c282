import { initBackend } from '../lib/runtime/backend';

// Every test runs on the backend the library would pick (or SFD_BACKEND).
export const mochaHooks = {
  async beforeAll() {
    await initBackend();
  },
};
