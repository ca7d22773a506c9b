"""The foundation: settings, i18n, formatting and typed times; imports nothing else of ours."""
