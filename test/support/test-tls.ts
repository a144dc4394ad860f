/**
 * A self-signed certificate for `hooks.example.test` (valid until 2126) and its key, for TLS
 * receivers on loopback in tests only: a test trusts it explicitly (`ca`) and resolves the name to
 * 127.0.0.1 itself. Made with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1
 * -nodes -days 36500 -subj /CN=hooks.example.test -addext subjectAltName=DNS:hooks.example.test`.
 */
export const TEST_TLS_NAME = 'hooks.example.test';

export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwdnmz5+m2CyP3ITG
wNTCXfKlHXXZZSrIYW/ux0lSgPehRANCAAR8SclcsowcaJgxSwwVRf0SQs47tPFj
YTmgV8sTHp1Yrj/mQRi21Rx42sShbn1oLU+E+Z4NpXuQQLC0h3tLtN43
-----END PRIVATE KEY-----
`;

export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBrDCCAVOgAwIBAgIUSvjFLgNe6JzeCsJ3Eum4Gnjt96gwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSaG9va3MuZXhhbXBsZS50ZXN0MCAXDTI2MTIwMzA5MTIzN1oY
DzIxMjYxMTA5MDkxMjM3WjAdMRswGQYDVQQDDBJob29rcy5leGFtcGxlLnRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR8SclcsowcaJgxSwwVRf0SQs47tPFj
YTmgV8sTHp1Yrj/mQRi21Rx42sShbn1oLU+E+Z4NpXuQQLC0h3tLtN43o28wbTAd
BgNVHQ4EFgQUtxOaREfaEOa4alcchmlUEMhdmyYwHwYDVR0jBBgwFoAUtxOaREfa
EOa4alcchmlUEMhdmyYwHQYDVR0RBBYwFIISaG9va3MuZXhhbXBsZS50ZXN0MAwG
A1UdEwEB/wQCMAAwCgYIKoZIzj0EAwIDRwAwRAIgefAH4vYom7jIVbgTOFu/2w78
jH5F+sZBOvbwQqMqo4ACIHsrw9oK4pzkbvR7c6DgRW9ScYzzCPYeTtcuD7u+PyM9
-----END CERTIFICATE-----
`;
