"""What a provider session needs to act for a calendar: its OAuth client and tokens."""

from .models import Calendar, OAuthApp
from .providers.base import Credentials, OAuthClient, PermanentError


def credentials_for(calendar: Calendar) -> Credentials:
    if calendar.oauth_client_id:
        client = OAuthClient(calendar.oauth_client_id, calendar.oauth_client_secret)
    else:
        app = OAuthApp.objects.filter(
            project_id=calendar.project_id, platform=calendar.platform
        ).first()
        if app is None:
            raise PermanentError("The project has no OAuth app for this platform.")
        client = OAuthClient(app.client_id, app.client_secret, app.tenant)
    return Credentials(
        client=client,
        refresh_token=calendar.refresh_token,
        access_token=calendar.access_token,
        access_token_expires_at=calendar.access_token_expires_at,
    )
