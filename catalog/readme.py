"""Model READMEs: Markdown rendered with markdown-it-py, sanitized with nh3, cached.

READMEs are written by anyone who can publish a model, so the HTML is untrusted: nh3
keeps an allowlist of tags and attributes and drops scripts, frames, styles, event
handlers and `javascript:` URLs; links get `rel="noopener noreferrer nofollow"`.
"""

from __future__ import annotations

import nh3
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from registry.models import MLModel

# Bumped whenever rendering changes, so that cached HTML from older code is not served.
RENDERER_VERSION = 1
CACHE_SECONDS = 24 * 60 * 60

_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_TAGS = nh3.ALLOWED_TAGS - {"map", "area"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {"src", "alt", "title", "width", "height"},
    "a": {"href", "title"},
    "code": {"class"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "td": {"align", "colspan", "rowspan"},
}


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to put on the page as it is."""
    html = _markdown.render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def readme_html(model: MLModel) -> SafeString:
    """The model's README as HTML, rendered once per change of the model."""
    if not model.readme.strip():
        return mark_safe("")
    stamp = model.updated_at.timestamp() if model.updated_at else 0
    key = f"catalog:readme:{RENDERER_VERSION}:{model.pk}:{stamp}"
    html = cache.get(key)
    if not isinstance(html, str):
        html = render_markdown(model.readme)
        cache.set(key, html, CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - sanitized by nh3 in render_markdown
