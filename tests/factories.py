from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from portal.models import User

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    """A verified patient account that can sign in with PASSWORD."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    phone_verified = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def verified_email(self, create: bool, extracted: bool | None, **kwargs) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class HospitalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hospitals.Hospital"

    name = factory.Sequence(lambda n: f"第{n}人民医院")
    name_en = factory.Sequence(lambda n: f"No. {n} People's Hospital")
    slug = factory.Sequence(lambda n: f"hospital-{n}")
    kind = "hospital"
    district = "海曙区"
    district_en = "Haishu"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hospitals.Department"

    hospital = factory.SubFactory(HospitalFactory)
    name = "皮肤科"
    name_en = "Dermatology"
    slug = factory.Sequence(lambda n: f"department-{n}")


class DoctorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hospitals.Doctor"

    department = factory.SubFactory(DepartmentFactory)
    hospital = factory.SelfAttribute("department.hospital")
    name = factory.Sequence(lambda n: f"医生{n}")
    name_en = factory.Sequence(lambda n: f"Doctor {n}")
    title = "attending"


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hospitals.StaffMembership"

    user = factory.SubFactory(UserFactory)
    hospital = factory.SubFactory(HospitalFactory)
    role = "hospital_admin"
