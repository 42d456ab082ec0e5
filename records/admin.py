"""Platform admin: people are shown masked; the encrypted column and token hashes never appear."""

from __future__ import annotations

from django.contrib import admin

from records.models import CareRelationship, Consent, GuardianInvitation, Patient, PatientLink


class PatientLinkInline(admin.TabularInline):
    model = PatientLink
    extra = 0
    fields = ("account", "relationship", "is_manager", "can_book", "can_read_record", "revoked_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("name", "id_number_masked", "sex", "birth_date", "created_at")
    search_fields = ("name",)
    fields = ("public_id", "name", "id_number_masked", "sex", "birth_date", "phone", "created_at")
    readonly_fields = fields
    inlines = [PatientLinkInline]

    def has_add_permission(self, request) -> bool:
        # People are added through the service, which validates, encrypts and audits.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # A person leaves an account's list through patient_remove; the record stays. The
        # delete confirmation would also list the protected clinical rows (allergies,
        # problems, file names) to a platform admin, who never sees clinical content.
        return False


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("patient", "kind", "on_behalf", "given_by", "given_at", "revoked_at")
    list_filter = ("kind", "on_behalf")
    list_select_related = ("patient", "given_by")
    readonly_fields = [f.name for f in Consent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(GuardianInvitation)
class GuardianInvitationAdmin(admin.ModelAdmin):
    list_display = ("patient", "email", "status", "created_at", "expires_at")
    list_filter = ("status",)
    list_select_related = ("patient",)
    exclude = ("token_hash",)
    readonly_fields = (
        "public_id",
        "patient",
        "invited_by",
        "email",
        "relationship",
        "can_book",
        "can_read_record",
        "status",
        "created_at",
        "expires_at",
        "responded_at",
        "accepted_by",
    )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CareRelationship)
class CareRelationshipAdmin(admin.ModelAdmin):
    list_display = ("patient", "user", "reason", "starts_at", "ends_at", "revoked_at")
    list_filter = ("reason",)
    list_select_related = ("patient", "user")
    readonly_fields = [f.name for f in CareRelationship._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
