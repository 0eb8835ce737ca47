"""Template tags of the support console (the admin's overview on its index page)."""

from django import template

from ..console.overview import overview

register = template.Library()


@register.simple_tag(takes_context=True)
def support_overview(context) -> dict | None:
    """The overview's data, for the project in `?project=` or all (like the admin's own
    `get_admin_log`, the index page loads it through a tag: no admin site subclass needed)."""
    request = context.get("request")
    if request is None or not request.user.has_perm("calendars.view_calendar"):
        return None  # staff without access to calendars see Django's index only
    project_id = request.GET.get("project", "").strip()
    return overview(project_id=project_id or None)


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value:.0%}"
