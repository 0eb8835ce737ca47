"""Hosted OAuth callbacks: the provider sends the browser here; we send it on to the app."""

import logging

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import oauth, tokens
from .providers import provider_for_callback

logger = logging.getLogger(__name__)


def _page(request, *, ok: bool, message: str, status: int = 200, code: str = ""):
    response = render(
        request,
        "calendars/oauth_result.html",
        {"ok": ok, "message": message, "code": code},
        status=status,
    )
    response["Referrer-Policy"] = "no-referrer"  # the URL carries the OAuth code
    return response


def _callback(request, platform: str):
    state = redirect_allowed = None
    try:
        state = oauth.parse_state(request.GET.get("state"), platform=platform)
        try:
            calendar_user = tokens.verify(state.token)
        except tokens.InvalidCalendarToken:
            raise oauth.invalid_token_error() from None
        for url in (state.success_url, state.error_url):
            if url:
                oauth.check_redirect_url(url, project=calendar_user.project)
        redirect_allowed = True
        calendar = oauth.complete(
            platform=platform, state=state, calendar_user=calendar_user, params=request.GET
        )
    except Exception as exc:
        if not isinstance(exc, oauth.ConnectError):
            # A person's browser is waiting: answer with the page, never a stack trace.
            logger.exception("calendar connection crashed")
            exc = oauth.ConnectError("internal_error", "an unexpected error occurred", status=500)
        logger.info("calendar connection failed: %s (%s)", exc.code, exc.reason)
        if redirect_allowed and state.error_url:
            return HttpResponseRedirect(
                oauth.with_query(
                    state.error_url, error=exc.code, error_description=exc.page_message
                )
            )
        return _page(request, ok=False, message=exc.page_message, status=exc.status, code=exc.code)
    logger.info("calendar %s connected (%s)", calendar.pk, platform)
    if state.success_url:
        return HttpResponseRedirect(state.success_url)
    return _page(request, ok=True, message="Your calendar is connected.")


@never_cache
@require_GET
def oauth_callback(request, callback_name: str):
    """/calendar/<callback_name>_oauth_callback/ of every registered provider."""
    provider = provider_for_callback(callback_name)
    if provider is None:
        raise Http404
    return _callback(request, provider.platform)
