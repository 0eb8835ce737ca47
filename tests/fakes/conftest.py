from .fixtures import fake_clock, fake_google, fake_microsoft, webhook_receiver

__all__ = ["fake_clock", "fake_google", "fake_microsoft", "webhook_receiver"]
