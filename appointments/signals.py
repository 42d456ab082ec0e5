"""Signals other parts of the portal plug into (DESIGN.md §2: lower apps never import higher)."""

from django.dispatch import Signal

# Sent by `closure_create` inside its transaction, after the covered slots are closed, with
# `closure` and `slot_ids` (the slots it closed). The booking issue connects here: cancel every
# appointment in those slots with reason `closure` and tell the patients (on commit).
closure_created = Signal()
