// The runner's forwarder has a fixed port in the sandbox's own network namespace, so HTTPS_PROXY is set
// before the runner starts and reaches every program, not only the SDK's.
export const LOCAL_FORWARDER_PORT = 3129;

export function proxyEnv(port = LOCAL_FORWARDER_PORT): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  return {
    NANOCLAW_LOCAL_PORT: String(port),
    HTTPS_PROXY: url,
    HTTP_PROXY: url,
    https_proxy: url,
    http_proxy: url,
    // The model proxy is the forwarder itself; it must not be proxied.
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}
