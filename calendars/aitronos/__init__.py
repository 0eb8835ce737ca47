"""The Aitronos meeting-buddy compatible surface (spec/peer-apis.md §4), under
/compat/aitronos/v1/meeting-buddy/: calendar connections, events, manual sync and auto-join
rules for one calendar user, who authenticates with `Authorization: Bearer <calendar auth
token>`. Serializers and views only, over the services the Recall V1 and server API surfaces
use; errors in Aitronos's envelope (errors.py), on this prefix only.
"""
