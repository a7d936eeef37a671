// Public surface of the mock runtime (tests only): a TaskDriver scripted by labels.
export { createMockDriver, MockLabels, type MockDriver } from './mock-driver.js';
