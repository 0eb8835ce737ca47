from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer with and without the trailing slash: Recall clients use both, and a
    redirect would turn their POST into a GET."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
