from django.contrib import admin

from projects.admin_utils import BigTableAdmin

from .models import Bot


@admin.register(Bot)
class BotAdmin(BigTableAdmin):
    list_display = ["id", "name", "status", "join_at", "meeting_platform", "backend", "project"]
    list_filter = ["status", "meeting_platform", "backend", "project"]
    list_select_related = ["project"]
    search_fields = ["=id", "=deduplication_key", "=backend_bot_id", "meeting_url"]
    raw_id_fields = ["project", "meetings"]
    readonly_fields = ["id", "created_at", "updated_at", "status_changes"]
