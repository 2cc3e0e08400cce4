"""The content-security policy of the site: one source for the pages' <meta> tag and `mamlviz serve`'s header.

Scripts only from the site itself, no inline script and no eval ('wasm-unsafe-eval' lets Pyodide compile its
WebAssembly and nothing else); workers, connections, styles and fonts from the site only; images from the site plus
the data: and blob: URLs the page makes itself (heat maps are canvas PNG data URLs). A <meta> policy covers the page
only: a worker's policy comes from its own script's response, which is why `mamlviz serve` sends the header too.
"""

from __future__ import annotations

POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "connect-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])

# frame-ancestors is ignored (with a console warning) in a <meta> policy: only the header carries it.
HEADER = POLICY + "; frame-ancestors 'self'"
