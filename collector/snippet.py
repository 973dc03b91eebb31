"""The loader snippet a site owner pastes: queues calls until rum.js has loaded."""

from __future__ import annotations

import orjson

_TEMPLATE = """<script>
  (function(w,d,s,u){{w.rum=w.rum||function(){{(w.rum.q=w.rum.q||[]).push(arguments)}};
   var e=d.createElement(s);e.async=1;e.src=u;d.head.appendChild(e)}})(window,document,'script',{script});
  rum('init', {options});
</script>"""


def render_snippet(base_url: str, site: str, attribution: bool = False,
                   sample_rate: float | None = None) -> str:
    """The snippet for `site`, loading the script and posting beacons to `base_url`."""
    base = base_url.rstrip("/")
    script = f"{base}/rum.attribution.js" if attribution else f"{base}/rum.js"
    options: dict[str, object] = {"site": site, "endpoint": f"{base}/v1/beacon"}
    if sample_rate is not None and sample_rate < 1:
        options["sampleRate"] = sample_rate
    return _TEMPLATE.format(
        script=orjson.dumps(script).decode().replace("</", "<\\/"),
        options=orjson.dumps(options).decode().replace("</", "<\\/"),
    )
