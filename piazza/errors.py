"""The one exception publishing raises for people to read."""

from __future__ import annotations


class PublishError(Exception):
    """Publishing stopped; the message names the path or URL and says what to do.

    Raised for anything a person can fix (a target that doesn't exist, a build
    or check that failed, an upload that broke off). The live site is never
    touched when this is raised before the switch.
    """
