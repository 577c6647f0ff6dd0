"""``PERFSUITE`` keys of query_opt (documented in docs/query_opt.md)."""

from __future__ import annotations

from perfsuite.core.conf import Option, register_defaults
from perfsuite.core.validators import boolean, choice, positive_int, str_list

register_defaults(
    {
        "QUERY_INSTRUMENTATION": Option(
            True,
            boolean,
            "Count and time every request's queries (QueryInstrumentationMiddleware).",
        ),
        "N_PLUS_ONE_THRESHOLD": Option(
            5, positive_int, "The same SQL shape this many times in one request is an N+1 finding."
        ),
        "N_PLUS_ONE_MODE": Option(
            "log",
            choice("off", "log", "warn", "raise"),
            "What a finding does: 'off', 'log', 'warn' (a Python warning) or 'raise'.",
        ),
        "N_PLUS_ONE_ALLOW": Option(
            (), str_list, "Routes or SQL fingerprints (prefixes) whose repeats are not findings."
        ),
        "UNUSED_EAGER_MODE": Option(
            "inherit",
            choice("inherit", "off", "log", "warn", "raise"),
            "What an unused select_related/prefetch_related does; 'inherit': as N_PLUS_ONE_MODE.",
        ),
    }
)
