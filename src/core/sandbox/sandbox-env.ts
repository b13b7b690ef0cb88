// A fixed forwarder port (the sandbox has its own network) lets HTTPS_PROXY reach every program from the start.
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
