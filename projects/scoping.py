from .authentication import request_project


class ProjectScopedMixin:
    """Every queryset of a server API view holds only the caller's project's objects, so another
    project's object is a 404, never a 403."""

    project_field = "project"

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return queryset.none()
        return queryset.filter(**{self.project_field: request_project(self.request)})
