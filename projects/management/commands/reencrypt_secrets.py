from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from config.progress import Progress
from projects.fields import EncryptedTextField

BATCH_SIZE = 500


def encrypted_fields():
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            yield model, names


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the newest key in FIELD_ENCRYPTION_KEYS, so older "
        "keys can then be removed. Safe to run again."
    )

    def handle(self, *args, **options):
        targets = list(encrypted_fields())
        progress = Progress(len(targets), stream=self.stdout)
        for model, names in targets:
            # The field decrypts on read (any listed key) and encrypts on write (newest key).
            rows = model.objects.values_list("pk", *names).order_by("pk")
            rotated = 0
            last_pk = None
            while True:
                page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
                batch = list(page[:BATCH_SIZE])
                if not batch:
                    break
                with transaction.atomic():
                    for pk, *values in batch:
                        update = {n: v for n, v in zip(names, values, strict=True) if v}
                        if update:
                            model.objects.filter(pk=pk).update(**update)
                            rotated += 1
                last_pk = batch[-1][0]
            progress.advance(f"{model._meta.label}: {rotated} row(s) re-encrypted.")
        progress.finish()
