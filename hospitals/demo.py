"""The demo city's directory: a Ningbo-like city with a cloud hospital, hospitals and clinics.

Every name here is invented. `seed_directory()` is idempotent: rows are found by stable slugs,
names and e-mails, so running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction

from hospitals.models import (
    Department,
    Doctor,
    HolidayCalendar,
    HolidayDate,
    Hospital,
    StaffMembership,
)

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed for local demos; never in production

CALENDAR_NAME = "中国法定节假日 China public holidays"

# (slug, name, English name, kind, district, district (English), address, address (English),
# phone)
HOSPITALS = [
    (
        "cloud",
        "甬城云医院",
        "Yongcheng Cloud Hospital",
        Hospital.Kind.CLOUD,
        "",
        "",
        "线上问诊，全市可约",
        "Video consults for the whole city",
        "0574-8800 1200",
    ),
    (
        "yongdong-peoples",
        "甬东人民医院",
        "Yongdong People's Hospital",
        Hospital.Kind.HOSPITAL,
        "海曙区",
        "Haishu",
        "海曙区望春路 218 号",
        "218 Wangchun Road, Haishu",
        "0574-8701 2000",
    ),
    (
        "mingzhou-second",
        "明州第二医院",
        "Mingzhou No. 2 Hospital",
        Hospital.Kind.HOSPITAL,
        "鄞州区",
        "Yinzhou",
        "鄞州区天童北路 1066 号",
        "1066 Tiantong North Road, Yinzhou",
        "0574-8822 3100",
    ),
    (
        "yaojiang",
        "姚江医院",
        "Yaojiang Hospital",
        Hospital.Kind.HOSPITAL,
        "江北区",
        "Jiangbei",
        "江北区槐树路 77 号",
        "77 Huaishu Road, Jiangbei",
        "0574-8763 5500",
    ),
    (
        "gangcheng",
        "北仑港城医院",
        "Beilun Gangcheng Hospital",
        Hospital.Kind.HOSPITAL,
        "北仑区",
        "Beilun",
        "北仑区新大路 960 号",
        "960 Xinda Road, Beilun",
        "0574-8617 4400",
    ),
    (
        "yuehu-clinic",
        "月湖社区卫生服务中心",
        "Yuehu Community Health Centre",
        Hospital.Kind.CLINIC,
        "海曙区",
        "Haishu",
        "海曙区偃月街 12 号",
        "12 Yanyue Street, Haishu",
        "0574-8730 6612",
    ),
    (
        "nanhu-clinic",
        "南湖社区卫生服务中心",
        "Nanhu Community Health Centre",
        Hospital.Kind.CLINIC,
        "鄞州区",
        "Yinzhou",
        "鄞州区南湖路 35 号",
        "35 Nanhu Road, Yinzhou",
        "0574-8815 0935",
    ),
    (
        "zhaobao-clinic",
        "招宝社区卫生服务中心",
        "Zhaobao Community Health Centre",
        Hospital.Kind.CLINIC,
        "镇海区",
        "Zhenhai",
        "镇海区城河西路 8 号",
        "8 Chenghe West Road, Zhenhai",
        "0574-8625 3308",
    ),
    (
        "yongjiang-clinic",
        "甬江社区卫生服务中心",
        "Yongjiang Community Health Centre",
        Hospital.Kind.CLINIC,
        "江北区",
        "Jiangbei",
        "江北区甬江大道 150 号",
        "150 Yongjiang Avenue, Jiangbei",
        "0574-8759 0150",
    ),
]

# slug: (name, English name, min age, max age, only for)
DEPARTMENTS = {
    "dermatology": ("皮肤科", "Dermatology", None, None, ""),
    "paediatrics": ("儿科", "Paediatrics", None, 14, ""),
    "gynaecology": ("妇科", "Gynaecology", None, None, Department.Sex.FEMALE),
    "cardiology": ("心血管内科", "Cardiology", None, None, ""),
    "general-practice": ("全科医学科", "General practice", None, None, ""),
    "ent": ("耳鼻咽喉科", "Ear, nose and throat", None, None, ""),
    "ophthalmology": ("眼科", "Ophthalmology", None, None, ""),
    "orthopaedics": ("骨科", "Orthopaedics", None, None, ""),
    "tcm": ("中医科", "Traditional Chinese medicine", None, None, ""),
}

# What each department's doctors are good at, (Chinese, English); doctors take them in turn.
SPECIALTIES = {
    "dermatology": [
        ("湿疹、特应性皮炎", "eczema, atopic dermatitis"),
        ("痤疮、玫瑰痤疮", "acne, rosacea"),
        ("银屑病、荨麻疹", "psoriasis, urticaria"),
        ("儿童皮肤病、皮肤过敏", "children's skin conditions, skin allergies"),
    ],
    "paediatrics": [
        ("儿童呼吸道感染、哮喘", "children's respiratory infections, asthma"),
        ("儿童生长发育、营养", "growth, development and nutrition"),
        ("新生儿黄疸、婴儿喂养", "newborn jaundice, infant feeding"),
    ],
    "gynaecology": [
        ("月经不调、多囊卵巢综合征", "menstrual disorders, PCOS"),
        ("更年期管理、宫颈疾病筛查", "menopause care, cervical screening"),
    ],
    "cardiology": [
        ("高血压、冠心病", "hypertension, coronary heart disease"),
        ("心律失常、心力衰竭随访", "arrhythmia, heart-failure follow-up"),
        ("血脂异常、心血管风险评估", "lipid disorders, cardiovascular risk"),
    ],
    "general-practice": [
        ("慢病管理：高血压、糖尿病", "chronic care: hypertension, diabetes"),
        ("常见病、多发病，家庭医生签约", "common illnesses, family doctor contracts"),
        ("老年健康管理、用药咨询", "older people's health, medication reviews"),
    ],
    "ent": [
        ("过敏性鼻炎、鼻窦炎", "allergic rhinitis, sinusitis"),
        ("中耳炎、听力下降", "otitis media, hearing loss"),
    ],
    "ophthalmology": [
        ("青少年近视防控", "myopia control for children"),
        ("白内障、青光眼", "cataract, glaucoma"),
    ],
    "orthopaedics": [
        ("颈肩腰腿痛、腰椎间盘突出", "neck, back and joint pain, disc herniation"),
        ("运动损伤、膝关节疾病", "sports injuries, knee conditions"),
    ],
    "tcm": [
        ("中医内科调理、失眠", "TCM internal medicine, insomnia"),
        ("针灸推拿、颈椎病", "acupuncture and tuina, cervical spondylosis"),
    ],
}

# (hospital slug, department slug, doctors); the first of each department is its most senior.
STAFFING = [
    ("cloud", "dermatology", 3),
    ("cloud", "general-practice", 3),
    ("cloud", "paediatrics", 2),
    ("cloud", "cardiology", 2),
    ("yongdong-peoples", "dermatology", 2),
    ("yongdong-peoples", "paediatrics", 2),
    ("yongdong-peoples", "gynaecology", 2),
    ("yongdong-peoples", "cardiology", 2),
    ("yongdong-peoples", "ent", 1),
    ("yongdong-peoples", "ophthalmology", 1),
    ("yongdong-peoples", "orthopaedics", 2),
    ("mingzhou-second", "cardiology", 2),
    ("mingzhou-second", "orthopaedics", 2),
    ("mingzhou-second", "ophthalmology", 2),
    ("mingzhou-second", "ent", 2),
    ("mingzhou-second", "general-practice", 1),
    ("yaojiang", "gynaecology", 2),
    ("yaojiang", "paediatrics", 2),
    ("yaojiang", "dermatology", 1),
    ("yaojiang", "general-practice", 1),
    ("gangcheng", "general-practice", 2),
    ("gangcheng", "orthopaedics", 1),
    ("gangcheng", "cardiology", 1),
    ("yuehu-clinic", "general-practice", 2),
    ("yuehu-clinic", "tcm", 1),
    ("yuehu-clinic", "paediatrics", 1),
    ("nanhu-clinic", "general-practice", 2),
    ("nanhu-clinic", "tcm", 1),
    ("zhaobao-clinic", "general-practice", 2),
    ("yongjiang-clinic", "general-practice", 2),
]

# Invented names with their pinyin, handed out in order.
DOCTOR_NAMES = [
    ("陈静怡", "Chen Jingyi"),
    ("林嘉豪", "Lin Jiahao"),
    ("周若溪", "Zhou Ruoxi"),
    ("王建国", "Wang Jianguo"),
    ("徐晓梅", "Xu Xiaomei"),
    ("张一鸣", "Zhang Yiming"),
    ("孙雅琴", "Sun Yaqin"),
    ("胡志远", "Hu Zhiyuan"),
    ("方丽华", "Fang Lihua"),
    ("郑浩然", "Zheng Haoran"),
    ("应秀兰", "Ying Xiulan"),
    ("俞文博", "Yu Wenbo"),
    ("邵佳宁", "Shao Jianing"),
    ("叶明轩", "Ye Mingxuan"),
    ("金玉洁", "Jin Yujie"),
    ("毛承志", "Mao Chengzhi"),
    ("董思琪", "Dong Siqi"),
    ("范立群", "Fan Liqun"),
    ("楼婉婷", "Lou Wanting"),
    ("袁振华", "Yuan Zhenhua"),
    ("虞晨曦", "Yu Chenxi"),
    ("史国平", "Shi Guoping"),
    ("竺海燕", "Zhu Haiyan"),
    ("沈立诚", "Shen Licheng"),
    ("钱慧敏", "Qian Huimin"),
    ("何东升", "He Dongsheng"),
    ("谢雨桐", "Xie Yutong"),
    ("贺永康", "He Yongkang"),
    ("柴雪芬", "Chai Xuefen"),
    ("鲍俊杰", "Bao Junjie"),
    ("江采薇", "Jiang Caiwei"),
    ("傅德明", "Fu Deming"),
    ("汪晓东", "Wang Xiaodong"),
    ("陆佩珊", "Lu Peishan"),
    ("翁子轩", "Weng Zixuan"),
    ("朱美琳", "Zhu Meilin"),
    ("罗家乐", "Luo Jiale"),
    ("杨春燕", "Yang Chunyan"),
    ("戴宏亮", "Dai Hongliang"),
    ("姚可欣", "Yao Kexin"),
    ("蒋正阳", "Jiang Zhengyang"),
    ("卢欣然", "Lu Xinran"),
    ("曹一凡", "Cao Yifan"),
    ("韩素琴", "Han Suqin"),
    ("施伟民", "Shi Weimin"),
    ("鲁芳芳", "Lu Fangfang"),
    ("葛天宇", "Ge Tianyu"),
    ("诸葛蕾", "Zhuge Lei"),
    ("顾明哲", "Gu Mingzhe"),
    ("裘晓岚", "Qiu Xiaolan"),
    ("岑立新", "Cen Lixin"),
    ("严淑贞", "Yan Shuzhen"),
]

HOSPITAL_TITLES = [
    Doctor.Title.CHIEF,
    Doctor.Title.ASSOCIATE_CHIEF,
    Doctor.Title.ATTENDING,
    Doctor.Title.RESIDENT,
]
CLINIC_TITLES = [Doctor.Title.ASSOCIATE_CHIEF, Doctor.Title.ATTENDING, Doctor.Title.RESIDENT]
TITLE_ZH = {"chief": "主任医师", "associate_chief": "副主任医师", "attending": "主治医师"}
TITLE_EN = {
    "chief": "Chief physician",
    "associate_chief": "Associate chief physician",
    "attending": "Attending physician",
}


@dataclass(frozen=True)
class StaffAccount:
    email: str
    name: str
    phone: str
    role: str  # what the README and seed_demo print
    memberships: tuple[tuple[str, str], ...]  # (hospital slug, role)
    doctor: tuple[str, str] | None = None  # (hospital slug, name) of the doctor it signs in as


STAFF_ACCOUNTS = (
    StaffAccount(
        "doctor.cloud@demo.test",
        "陈静怡",
        "+8613800000011",
        "doctor at the cloud hospital (dermatology, video consults)",
        (("cloud", StaffMembership.Role.DOCTOR),),
        doctor=("cloud", "陈静怡"),
    ),
    StaffAccount(
        "doctor.clinic@demo.test",
        "卢欣然",
        "+8613800000012",
        "doctor at Yuehu community clinic (general practice)",
        (("yuehu-clinic", StaffMembership.Role.DOCTOR),),
        doctor=("yuehu-clinic", "卢欣然"),
    ),
    StaffAccount(
        "desk@demo.test",
        "林晓红",
        "+8613800000013",
        "front-desk clerk at Yuehu community clinic",
        (("yuehu-clinic", StaffMembership.Role.FRONT_DESK),),
    ),
    StaffAccount(
        "hospital.admin@demo.test",
        "周海燕",
        "+8613800000014",
        "hospital admin of the cloud hospital and Yuehu community clinic",
        (
            ("cloud", StaffMembership.Role.HOSPITAL_ADMIN),
            ("yuehu-clinic", StaffMembership.Role.HOSPITAL_ADMIN),
        ),
    ),
)


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def _holidays(start: str, end: str, name: str) -> list[tuple[dt.date, str, str, None]]:
    days = _days(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    return [(day, HolidayDate.Kind.HOLIDAY, name, None) for day in days]


def _workday(day: str, name: str, follows_weekday: int) -> list[tuple[dt.date, str, str, int]]:
    return [(dt.date.fromisoformat(day), HolidayDate.Kind.WORKDAY, name, follows_weekday)]


MON, TUE, WED, THU, FRI = range(5)

# 2026: the State Council General Office's notice on the 2026 holidays (国办发明电, November
# 2025). A make-up working day runs the rota of the weekday it swaps with.
HOLIDAYS_2026 = [
    *_holidays("2026-01-01", "2026-01-03", "元旦 New Year's Day"),
    *_workday("2026-01-04", "元旦调休 New Year make-up day", FRI),
    *_workday("2026-02-14", "春节调休 Spring Festival make-up day", FRI),
    *_holidays("2026-02-15", "2026-02-23", "春节 Spring Festival"),
    *_workday("2026-02-28", "春节调休 Spring Festival make-up day", MON),
    *_holidays("2026-04-04", "2026-04-06", "清明节 Qingming Festival"),
    *_holidays("2026-05-01", "2026-05-05", "劳动节 Labour Day"),
    *_workday("2026-05-09", "劳动节调休 Labour Day make-up day", TUE),
    *_holidays("2026-06-19", "2026-06-21", "端午节 Dragon Boat Festival"),
    *_workday("2026-09-20", "国庆节调休 National Day make-up day", MON),
    *_holidays("2026-09-25", "2026-09-27", "中秋节 Mid-Autumn Festival"),
    *_holidays("2026-10-01", "2026-10-07", "国庆节 National Day"),
    *_workday("2026-10-10", "国庆节调休 National Day make-up day", WED),
]

# 2027: PROVISIONAL. Built on the usual pattern (festival dates from the lunar calendar, the
# Spring Festival and National Day weeks bridged by weekend make-up days); it must be checked
# against the State Council's notice for 2027 when that is published, and corrected here.
HOLIDAYS_2027 = [
    *_holidays("2027-01-01", "2027-01-03", "元旦 New Year's Day"),
    *_workday("2027-01-31", "春节调休 Spring Festival make-up day", THU),
    *_holidays("2027-02-05", "2027-02-13", "春节 Spring Festival"),
    *_workday("2027-02-20", "春节调休 Spring Festival make-up day", FRI),
    *_holidays("2027-04-03", "2027-04-05", "清明节 Qingming Festival"),
    *_workday("2027-04-25", "劳动节调休 Labour Day make-up day", TUE),
    *_holidays("2027-05-01", "2027-05-05", "劳动节 Labour Day"),
    *_holidays("2027-06-09", "2027-06-09", "端午节 Dragon Boat Festival"),
    *_holidays("2027-09-15", "2027-09-15", "中秋节 Mid-Autumn Festival"),
    *_workday("2027-09-26", "国庆节调休 National Day make-up day", WED),
    *_holidays("2027-10-01", "2027-10-07", "国庆节 National Day"),
    *_workday("2027-10-09", "国庆节调休 National Day make-up day", THU),
]


def _seed_calendar() -> HolidayCalendar:
    calendar, _ = HolidayCalendar.objects.get_or_create(name=CALENDAR_NAME)
    for day, kind, name, follows in HOLIDAYS_2026 + HOLIDAYS_2027:
        HolidayDate.objects.get_or_create(
            calendar=calendar,
            date=day,
            defaults={"kind": kind, "name": name, "follows_weekday": follows},
        )
    return calendar


def _seed_hospitals(calendar: HolidayCalendar) -> dict[str, Hospital]:
    hospitals = {}
    for slug, name, name_en, kind, district, district_en, address, address_en, phone in HOSPITALS:
        hospitals[slug], _ = Hospital.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "name_en": name_en,
                "kind": kind,
                "district": district,
                "district_en": district_en,
                "address": address,
                "address_en": address_en,
                "phone": phone,
                "holiday_calendar": calendar,
            },
        )
    return hospitals


def _seed_departments(hospitals: dict[str, Hospital]) -> dict[tuple[str, str], Department]:
    departments = {}
    for hospital_slug, department_slug, _count in STAFFING:
        key = (hospital_slug, department_slug)
        if key in departments:
            continue
        name, name_en, min_age, max_age, sex = DEPARTMENTS[department_slug]
        departments[key], _ = Department.objects.get_or_create(
            hospital=hospitals[hospital_slug],
            slug=department_slug,
            defaults={
                "name": name,
                "name_en": name_en,
                "min_age_years": min_age,
                "max_age_years": max_age,
                "sex": sex,
            },
        )
    return departments


def _seed_doctors(
    hospitals: dict[str, Hospital], departments: dict[tuple[str, str], Department]
) -> list[Doctor]:
    doctors = []
    names = iter(DOCTOR_NAMES)
    juniors = 0  # rotates the titles below the head of each department across the city
    for hospital_slug, department_slug, count in STAFFING:
        hospital = hospitals[hospital_slug]
        department = departments[(hospital_slug, department_slug)]
        titles = CLINIC_TITLES if hospital.kind == Hospital.Kind.CLINIC else HOSPITAL_TITLES
        for rank in range(count):
            name, name_en = next(names)
            if rank == 0:
                title = titles[0]
            else:
                title = titles[1 + juniors % (len(titles) - 1)]
                juniors += 1
            specialties, specialties_en = SPECIALTIES[department_slug][
                rank % len(SPECIALTIES[department_slug])
            ]
            # The cloud hospital's doctors all consult by video; at the hospitals the senior
            # dermatologists and cardiologists also hold online sessions for the cloud hospital.
            online = hospital.kind == Hospital.Kind.CLOUD or (
                hospital.kind == Hospital.Kind.HOSPITAL
                and department_slug in {"dermatology", "cardiology"}
                and rank == 0
            )
            title_zh = TITLE_ZH.get(title, "住院医师")
            title_en = TITLE_EN.get(title, "Resident physician")
            doctor, _ = Doctor.objects.get_or_create(
                hospital=hospital,
                name=name,
                defaults={
                    "name_en": name_en,
                    "department": department,
                    "title": title,
                    "specialties": specialties,
                    "specialties_en": specialties_en,
                    "offers_online": online,
                    "bio": f"{hospital.name}{department.name}{title_zh}，擅长{specialties}。",
                    "bio_en": (
                        f"{title_en} in {department.name_en.lower()} at {hospital.name_en}; "
                        f"sees patients for {specialties_en}."
                    ),
                },
            )
            doctors.append(doctor)
    return doctors


def _seed_staff(
    hospitals: dict[str, Hospital], doctors: list[Doctor], password: str
) -> list[tuple[str, str]]:
    User = get_user_model()
    printed = []
    for account in STAFF_ACCOUNTS:
        user, created = User.objects.get_or_create(
            email=account.email,
            defaults={"name": account.name, "phone": account.phone, "phone_verified": True},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        EmailAddress.objects.get_or_create(
            user=user, email=account.email, defaults={"verified": True, "primary": True}
        )
        for hospital_slug, role in account.memberships:
            StaffMembership.objects.get_or_create(
                user=user, hospital=hospitals[hospital_slug], role=role
            )
        if account.doctor is not None:
            hospital_slug, name = account.doctor
            hospital_id = hospitals[hospital_slug].pk
            doctor = next(d for d in doctors if d.hospital_id == hospital_id and d.name == name)
            if doctor.user_id is None:
                doctor.user = user
                doctor.save(update_fields=["user"])
        printed.append((account.email, account.role))
    return printed


def seed_directory(*, password: str = DEMO_PASSWORD) -> dict:
    """Create the demo directory if it is missing; return what it holds and the staff accounts
    (e-mail, role) for printing."""
    with transaction.atomic():
        calendar = _seed_calendar()
        hospitals = _seed_hospitals(calendar)
        departments = _seed_departments(hospitals)
        doctors = _seed_doctors(hospitals, departments)
        accounts = _seed_staff(hospitals, doctors, password)
    return {
        "calendar": calendar,
        "hospitals": hospitals,
        "departments": departments,
        "doctors": doctors,
        "accounts": accounts,
    }
