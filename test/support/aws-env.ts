import { inject } from 'vitest';

// Runs in every worker of the integration tiers before the test files import any SDK client, so
// clients created at module scope already point at the emulator.
const endpoint = inject('awsEndpoint');
process.env.AWS_ENDPOINT_URL = endpoint;
process.env.AWS_REGION = 'ap-south-1';
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
delete process.env.AWS_PROFILE;
