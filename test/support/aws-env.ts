import { inject } from 'vitest';

// Runs in every worker of the integration tiers before the test files import any SDK client, so
// clients created at module scope already point at the emulator.
const endpoint = inject('awsEndpoint');
process.env.AWS_ENDPOINT_URL = endpoint;
process.env.AWS_REGION = 'ap-south-1';
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// One attempt of an AWS call may wait 30 s here, not the deployed 5 s: the one emulator serves every
// test file's requests one at a time, and a burst of racing calls on a loaded machine keeps some
// waiting for seconds (scenario 6 saw 27 of 150 answers time out three times over at 5 s).
// `test/integration/runtime/aws-client-timeout.test.ts` proves the deployed default.
process.env.AWS_CALL_TIMEOUT_MS = '30000';
delete process.env.AWS_PROFILE;
