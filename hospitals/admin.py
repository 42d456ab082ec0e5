from django.contrib import admin

from hospitals.models import (
    Department,
    Doctor,
    HolidayCalendar,
    HolidayDate,
    Hospital,
    StaffMembership,
)


class HolidayDateInline(admin.TabularInline):
    model = HolidayDate
    extra = 0


@admin.register(HolidayCalendar)
class HolidayCalendarAdmin(admin.ModelAdmin):
    inlines = [HolidayDateInline]


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0
    fields = (
        "name",
        "name_en",
        "slug",
        "aliases",
        "display_order",
        "min_age_years",
        "max_age_years",
        "sex",
        "is_active",
    )


@admin.register(Hospital)
class HospitalAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "kind", "district", "display_order", "is_active")
    list_filter = ("kind", "district", "is_active")
    search_fields = ("name", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    inlines = [DepartmentInline]


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "title", "hospital", "department", "offers_online")
    list_filter = ("title", "offers_online", "hospital")
    search_fields = ("name", "name_en", "specialties", "specialties_en")
    list_select_related = ("hospital", "department")
    raw_id_fields = ("user",)


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "hospital", "role", "created_at")
    list_filter = ("role", "hospital")
    list_select_related = ("user", "hospital")
    raw_id_fields = ("user",)
