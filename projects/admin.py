from django.contrib import admin, messages

from calendars.models import OAuthApp

from .admin_utils import masked_secret, with_zone
from .models import ApiKey, JobFailure, Project
from .services import api_key_revoke


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["prefix", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are issued with create_api_key or the API, where they are shown once


class OAuthAppInline(admin.TabularInline):
    model = OAuthApp
    client_secret_masked = masked_secret("client_secret")
    fields = ["platform", "client_id", "tenant", "client_secret_masked"]
    readonly_fields = ["client_secret_masked"]
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "bot_deduplication", "created"]
    search_fields = ["name", "=id"]
    ordering = ["-created_at"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [OAuthAppInline, ApiKeyInline]

    @admin.display(description="created", ordering="created_at")
    def created(self, project) -> str:
        return with_zone(project.created_at)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "project", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["project", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["project"]
    search_fields = ["prefix", "name", "=id", "project__name"]
    fields = ["project", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["project", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected API keys (even a project's last one)")
    def revoke(self, request, queryset):
        for api_key in queryset.active():
            api_key_revoke(api_key=api_key, allow_last=True)
            self.log_change(request, api_key, "API key revoked in the admin.")
        messages.success(request, "Revoked; calendar auth tokens minted with them stop working.")


@admin.register(JobFailure)
class JobFailureAdmin(admin.ModelAdmin):
    """Rows background jobs skipped because processing them failed: what and why. A row goes
    away by itself once its job succeeds with it again."""

    list_display = ["job", "object_type", "object_id", "project", "occurrences", "last_failed"]
    list_filter = ["job", "object_type", "project"]
    list_select_related = ["project"]
    search_fields = ["=object_id", "error", "project__name"]
    fields = [
        "job",
        "object_type",
        "object_id",
        "project",
        "error",
        "occurrences",
        "first_failed_at",
        "last_failed_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="last failed", ordering="last_failed_at")
    def last_failed(self, failure) -> str:
        return with_zone(failure.last_failed_at)
