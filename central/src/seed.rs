//! Demo data: sample residents, the service catalogue, applications and
//! certificates of origin. The reference server loads it into a new database; the
//! kiosk's simulated card and the virtual test card use [`DEMO_RESIDENTS`].
//!
//! Everything here is fictitious. ID numbers have valid GB 11643 check digits so
//! that the kiosk's validation accepts them.

use crate::wire::{
    ApplicationStatus, Category, LocalizedText, OpeningHours, OriginCertificateStatus,
    ProgressStep, Service, ServiceKind, StepState, WeeklyRange,
};

/// A sample resident, as printed on their (virtual) social security card.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DemoResident {
    pub card_number: &'static str,
    pub id_number: &'static str,
    pub name: &'static str,
    /// "M" or "F".
    pub gender: &'static str,
    /// "YYYY-MM-DD".
    pub birth_date: &'static str,
}

impl std::fmt::Debug for DemoResident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Fixtures, but they look like personal data: keep them out of logs too.
        f.debug_struct("DemoResident").finish_non_exhaustive()
    }
}

pub const DEMO_RESIDENTS: &[DemoResident] = &[
    DemoResident {
        card_number: "A01234567",
        id_number: "330106198503122314",
        name: "张伟",
        gender: "M",
        birth_date: "1985-03-12",
    },
    DemoResident {
        card_number: "B12345678",
        id_number: "330702199207081628",
        name: "李娜",
        gender: "F",
        birth_date: "1992-07-08",
    },
    DemoResident {
        card_number: "C23456789",
        id_number: "440105197811300033",
        name: "王堃",
        gender: "M",
        birth_date: "1978-11-30",
    },
    DemoResident {
        card_number: "D34567890",
        id_number: "610402196001250040",
        name: "陈𠮷祥",
        gender: "F",
        birth_date: "1960-01-25",
    },
    DemoResident {
        // No contribution history: exercises the "nothing to certify" path.
        card_number: "E45678901",
        id_number: "330503200105056115",
        name: "刘洋",
        gender: "M",
        birth_date: "2001-05-05",
    },
];

/// Whether `id_number` is 18 characters with a valid GB 11643 check digit.
pub fn id_number_is_valid(id_number: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let bytes = id_number.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == bytes[17].to_ascii_uppercase()
}

/// Registered address and household details of a demo resident.
#[derive(Clone, Copy)]
pub struct ResidentRecord {
    pub card_number: &'static str,
    pub address: &'static str,
    pub household_head: &'static str,
    pub relationship: LocalizedStatic,
    /// Employer and monthly contribution base (yuan) and the months paid, inclusive.
    pub contributions: Option<ContributionPlan>,
}

#[derive(Clone, Copy)]
pub struct LocalizedStatic {
    pub zh_cn: &'static str,
    pub zh_tw: &'static str,
    pub en_us: &'static str,
}

impl LocalizedStatic {
    pub fn to_text(self) -> LocalizedText {
        LocalizedText::new(self.zh_cn, self.zh_tw, self.en_us)
    }
}

/// A contribution history, relative to the service's current month so that the
/// demo always has recent data: each span runs from `from` to `to` whole months
/// before the current month (so `to: 1` is "up to last month"), both included.
#[derive(Clone, Copy)]
pub struct ContributionPlan {
    pub employer: &'static str,
    pub base_yuan: i64,
    pub spans: &'static [MonthsAgo],
}

/// An inclusive run of months, counted back from the current month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthsAgo {
    pub from: u32,
    pub to: u32,
}

impl ContributionPlan {
    /// The months paid, as "YYYY-MM", when the current month is `today`'s.
    pub fn months(&self, today: time::Date) -> Vec<String> {
        let current = today.year() * 12 + i32::from(u8::from(today.month())) - 1;
        let mut months: Vec<i32> = self
            .spans
            .iter()
            .flat_map(|span| {
                let from = current - i32::try_from(span.from).unwrap_or(0);
                let to = current - i32::try_from(span.to).unwrap_or(0);
                from..=to
            })
            .collect();
        months.sort_unstable();
        months.dedup();
        months
            .into_iter()
            .map(|m| format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1))
            .collect()
    }
}

const HEAD: LocalizedStatic = LocalizedStatic {
    zh_cn: "户主",
    zh_tw: "戶主",
    en_us: "Head of household",
};
const SPOUSE: LocalizedStatic = LocalizedStatic {
    zh_cn: "配偶",
    zh_tw: "配偶",
    en_us: "Spouse",
};
const CHILD: LocalizedStatic = LocalizedStatic {
    zh_cn: "子",
    zh_tw: "子",
    en_us: "Son",
};

pub const RESIDENT_RECORDS: &[ResidentRecord] = &[
    ResidentRecord {
        card_number: "A01234567",
        address: "浙江省杭州市滨江区长河街道江虹路 88 号 3 幢 1201 室",
        household_head: "张伟",
        relationship: HEAD,
        // Five years without a break, up to last month.
        contributions: Some(ContributionPlan {
            employer: "杭州滨江精密机械有限公司",
            base_yuan: 8_600,
            spans: &[MonthsAgo { from: 60, to: 1 }],
        }),
    },
    ResidentRecord {
        card_number: "B12345678",
        address: "浙江省金华市金东区多湖街道光南路 166 号",
        household_head: "周建国",
        relationship: SPOUSE,
        // A three-month gap (between jobs) inside the last 12 months.
        contributions: Some(ContributionPlan {
            employer: "金华东方纺织品有限公司",
            base_yuan: 5_200,
            spans: &[MonthsAgo { from: 30, to: 9 }, MonthsAgo { from: 5, to: 1 }],
        }),
    },
    ResidentRecord {
        card_number: "C23456789",
        address: "广东省广州市海珠区新港中路 397 号",
        household_head: "王堃",
        relationship: HEAD,
        contributions: Some(ContributionPlan {
            employer: "广州海珠电子科技有限公司",
            base_yuan: 12_000,
            spans: &[MonthsAgo { from: 40, to: 1 }],
        }),
    },
    ResidentRecord {
        card_number: "D34567890",
        address: "陕西省咸阳市秦都区渭阳西路 12 号",
        household_head: "陈𠮷祥",
        relationship: HEAD,
        // Stopped paying years ago: nothing in the default period.
        contributions: Some(ContributionPlan {
            employer: "咸阳市灵活就业人员",
            base_yuan: 3_900,
            spans: &[MonthsAgo { from: 130, to: 70 }],
        }),
    },
    ResidentRecord {
        card_number: "E45678901",
        address: "浙江省湖州市吴兴区爱山街道人民路 21 号",
        household_head: "刘建军",
        relationship: CHILD,
        contributions: None,
    },
];

fn text(zh_cn: &str, zh_tw: &str, en_us: &str) -> LocalizedText {
    LocalizedText::new(zh_cn, zh_tw, en_us)
}

fn office_hours() -> OpeningHours {
    OpeningHours::Weekly {
        ranges: (1..=5)
            .map(|weekday| WeeklyRange {
                weekday,
                opens: "08:30".into(),
                closes: "17:30".into(),
            })
            .collect(),
    }
}

pub fn categories() -> Vec<Category> {
    vec![
        Category {
            id: "social-insurance".into(),
            name: text("社会保障", "社會保障", "Social insurance"),
        },
        Category {
            id: "household".into(),
            name: text("户政服务", "戶政服務", "Household registration"),
        },
        Category {
            id: "tax".into(),
            name: text("税务服务", "稅務服務", "Tax"),
        },
        Category {
            id: "trade".into(),
            name: text("商务外贸", "商務外貿", "Trade and customs"),
        },
        Category {
            id: "general".into(),
            name: text("综合服务", "綜合服務", "General services"),
        },
    ]
}

/// The catalogue; `open_now` is filled in by the server at request time.
pub fn services() -> Vec<Service> {
    vec![
        Service {
            id: "si-payment-certificate".into(),
            category: "social-insurance".into(),
            name: text(
                "社保缴费证明",
                "社保繳費證明",
                "Social insurance payment certificate",
            ),
            description: text(
                "打印本人社会保险个人缴费证明，附逐月缴费明细。",
                "列印本人社會保險個人繳費證明，附逐月繳費明細。",
                "Print your social insurance payment certificate with monthly details.",
            ),
            kind: ServiceKind::Certificate,
            needs_card: true,
            opening_hours: OpeningHours::AlwaysOpen,
            open_now: true,
        },
        Service {
            id: "household-proof".into(),
            category: "household".into(),
            name: text("户籍证明", "戶籍證明", "Household registration proof"),
            description: text(
                "打印本人户籍登记信息证明。",
                "列印本人戶籍登記資訊證明。",
                "Print proof of your household registration.",
            ),
            kind: ServiceKind::Certificate,
            needs_card: true,
            opening_hours: OpeningHours::AlwaysOpen,
            open_now: true,
        },
        Service {
            id: "tax-payment-certificate".into(),
            category: "tax".into(),
            name: text("完税证明", "完稅證明", "Tax payment certificate"),
            description: text(
                "工作日 8:30–17:30 可打印个人所得税完税证明。",
                "工作日 8:30–17:30 可列印個人所得稅完稅證明。",
                "Individual income tax certificate, weekdays 8:30–17:30.",
            ),
            kind: ServiceKind::Certificate,
            needs_card: true,
            opening_hours: office_hours(),
            open_now: false,
        },
        Service {
            id: "origin-certificate".into(),
            category: "trade".into(),
            name: text(
                "原产地证书自助打印",
                "原產地證書自助列印",
                "Certificate of origin",
            ),
            description: text(
                "凭申请号和出口商代码打印已签发的原产地证书（RCEP 等）。",
                "憑申請號和出口商代碼列印已簽發的原產地證書（RCEP 等）。",
                "Print an approved certificate of origin (RCEP and others) by application number and exporter code.",
            ),
            kind: ServiceKind::OriginCertificate,
            needs_card: false,
            opening_hours: OpeningHours::AlwaysOpen,
            open_now: true,
        },
        Service {
            id: "application-progress".into(),
            category: "general".into(),
            name: text("办件进度查询", "辦件進度查詢", "Application progress"),
            description: text(
                "输入申请号查询审批进度和待补材料。",
                "輸入申請號查詢審批進度和待補材料。",
                "Check the progress of an application and any missing materials.",
            ),
            kind: ServiceKind::Progress,
            needs_card: false,
            opening_hours: OpeningHours::AlwaysOpen,
            open_now: true,
        },
        Service {
            id: "address-change".into(),
            category: "household".into(),
            name: text("居住地址变更申报", "居住地址變更申報", "Change of address"),
            description: text(
                "在线提交地址变更材料，取得受理回执。",
                "線上提交地址變更材料，取得受理回執。",
                "Submit a change of address and receive a receipt.",
            ),
            kind: ServiceKind::Submission,
            needs_card: true,
            opening_hours: OpeningHours::AlwaysOpen,
            open_now: true,
        },
    ]
}

pub struct DemoApplication {
    pub application_number: &'static str,
    /// ID number of the resident who applied; their card finds it.
    pub applicant_id_number: &'static str,
    pub service_name: LocalizedText,
    pub status: ApplicationStatus,
    pub submitted_on: &'static str,
    pub expected_completion: Option<&'static str>,
    pub steps: Vec<ProgressStep>,
    pub missing: Vec<LocalizedText>,
}

fn step(
    zh_cn: &str,
    zh_tw: &str,
    en_us: &str,
    state: StepState,
    date: Option<&str>,
) -> ProgressStep {
    ProgressStep {
        name: text(zh_cn, zh_tw, en_us),
        state,
        date: date.map(str::to_owned),
    }
}

pub fn applications() -> Vec<DemoApplication> {
    use StepState::{Current, Done, Pending};
    let address_change = text("居住地址变更申报", "居住地址變更申報", "Change of address");
    vec![
        DemoApplication {
            application_number: "SQ2025060100012",
            applicant_id_number: "330106198503122314",
            service_name: address_change.clone(),
            status: ApplicationStatus::UnderReview,
            submitted_on: "2025-06-01",
            expected_completion: Some("2025-06-08"),
            steps: vec![
                step("受理", "受理", "Received", Done, Some("2025-06-01")),
                step("审核", "審核", "Under review", Current, Some("2025-06-02")),
                step("办结", "辦結", "Completed", Pending, None),
            ],
            missing: vec![],
        },
        DemoApplication {
            application_number: "SQ2025052000007",
            applicant_id_number: "330702199207081628",
            service_name: text(
                "灵活就业人员参保登记",
                "靈活就業人員參保登記",
                "Insurance registration (self-employed)",
            ),
            status: ApplicationStatus::NeedsMaterials,
            submitted_on: "2025-05-20",
            expected_completion: None,
            steps: vec![
                step("受理", "受理", "Received", Done, Some("2025-05-20")),
                step(
                    "补正材料",
                    "補正材料",
                    "Materials requested",
                    Current,
                    Some("2025-05-22"),
                ),
                step("审核", "審核", "Review", Pending, None),
                step("办结", "辦結", "Completed", Pending, None),
            ],
            missing: vec![
                text(
                    "房屋租赁合同复印件",
                    "房屋租賃合同影本",
                    "Copy of the tenancy agreement",
                ),
                text(
                    "近三个月收入证明",
                    "近三個月收入證明",
                    "Proof of income for the last three months",
                ),
            ],
        },
        DemoApplication {
            application_number: "SQ2025041500003",
            applicant_id_number: "330106198503122314",
            service_name: text(
                "社保关系转移",
                "社保關係轉移",
                "Transfer of social insurance",
            ),
            status: ApplicationStatus::Completed,
            submitted_on: "2025-04-15",
            expected_completion: Some("2025-04-25"),
            steps: vec![
                step("受理", "受理", "Received", Done, Some("2025-04-15")),
                step("审核", "審核", "Review", Done, Some("2025-04-18")),
                step("办结", "辦結", "Completed", Done, Some("2025-04-24")),
            ],
            missing: vec![],
        },
        DemoApplication {
            application_number: "SQ2025061000021",
            applicant_id_number: "330702199207081628",
            service_name: text("生育津贴申领", "生育津貼申領", "Maternity allowance"),
            status: ApplicationStatus::Rejected,
            submitted_on: "2025-06-10",
            expected_completion: None,
            steps: vec![
                step("受理", "受理", "Received", Done, Some("2025-06-10")),
                step(
                    "审核（不予受理）",
                    "審核（不予受理）",
                    "Review (declined)",
                    Done,
                    Some("2025-06-12"),
                ),
            ],
            missing: vec![],
        },
    ]
}

pub struct DemoGoods {
    pub hs_code: &'static str,
    pub description: &'static str,
    pub quantity: &'static str,
    pub origin_criterion: &'static str,
}

pub struct DemoOriginCertificate {
    pub application_number: &'static str,
    /// Producer box of the form: name, address, country.
    pub producer: &'static str,
    /// Invoice number and date, as printed in the item table.
    pub invoice: &'static str,
    pub exporter_code: &'static str,
    pub exporter_name: &'static str,
    pub exporter_address: &'static str,
    pub consignee: &'static str,
    pub agreement: &'static str,
    pub form_name: LocalizedText,
    pub status: OriginCertificateStatus,
    pub certificate_number: Option<&'static str>,
    pub approved_on: Option<&'static str>,
    pub transport: &'static str,
    pub goods: Vec<DemoGoods>,
}

pub fn origin_certificates() -> Vec<DemoOriginCertificate> {
    let rcep = text(
        "RCEP 原产地证书",
        "RCEP 原產地證書",
        "RCEP certificate of origin",
    );
    vec![
        DemoOriginCertificate {
            application_number: "CO2025330100001",
            producer: "杭州滨江精密机械有限公司 / Hangzhou Binjiang Precision Machinery Co., Ltd., Hangzhou, China",
            invoice: "BJ-INV-250518 / 2025-05-18",
            exporter_code: "3301960001",
            exporter_name: "杭州滨江精密机械有限公司",
            exporter_address: "浙江省杭州市滨江区江南大道 3850 号",
            consignee: "Tanaka Trading Co., Ltd., 2-1 Umeda, Kita-ku, Osaka, Japan",
            agreement: "RCEP",
            form_name: rcep.clone(),
            status: OriginCertificateStatus::Approved,
            certificate_number: Some("R2533010000001"),
            approved_on: Some("2025-05-28"),
            transport: "By sea, Ningbo to Osaka, vessel SEA PEARL V.025E",
            goods: vec![
                DemoGoods {
                    hs_code: "8483.40",
                    description: "Gear boxes",
                    quantity: "120 PCS",
                    origin_criterion: "RVC",
                },
                DemoGoods {
                    hs_code: "8482.10",
                    description: "Ball bearings",
                    quantity: "2,400 PCS",
                    origin_criterion: "CTH",
                },
            ],
        },
        DemoOriginCertificate {
            application_number: "CO2025330700002",
            producer: "金华东方纺织品有限公司 / Jinhua Oriental Textiles Co., Ltd., Jinhua, China",
            invoice: "JD-2025-0601 / 2025-06-01",
            exporter_code: "3307960002",
            exporter_name: "金华东方纺织品有限公司",
            exporter_address: "浙江省金华市金东区金港大道 188 号",
            consignee: "PT Nusantara Tekstil, Jl. Sudirman 10, Jakarta, Indonesia",
            agreement: "China-ASEAN (Form E)",
            form_name: text(
                "中国—东盟原产地证书（Form E）",
                "中國—東盟原產地證書（Form E）",
                "China-ASEAN certificate of origin (Form E)",
            ),
            status: OriginCertificateStatus::UnderReview,
            certificate_number: None,
            approved_on: None,
            transport: "By sea, Shanghai to Jakarta",
            goods: vec![DemoGoods {
                hs_code: "5208.52",
                description: "Printed cotton fabrics",
                quantity: "18,000 M",
                origin_criterion: "WO",
            }],
        },
        DemoOriginCertificate {
            application_number: "CO2025440100003",
            producer: "广州海珠电子科技有限公司 / Guangzhou Haizhu Electronics Technology Co., Ltd., Guangzhou, China",
            invoice: "HZ250525-03 / 2025-05-25",
            exporter_code: "4401960003",
            exporter_name: "广州海珠电子科技有限公司",
            exporter_address: "广东省广州市海珠区琶洲大道 8 号",
            consignee: "Saigon Components JSC, 12 Nguyen Hue, Ho Chi Minh City, Viet Nam",
            agreement: "RCEP",
            form_name: rcep,
            status: OriginCertificateStatus::Approved,
            certificate_number: Some("R2544010000003"),
            approved_on: Some("2025-06-03"),
            transport: "By air, Guangzhou to Ho Chi Minh City, flight CZ3069",
            goods: vec![DemoGoods {
                hs_code: "8504.40",
                description: "Static converters (power adapters)",
                quantity: "5,000 PCS",
                origin_criterion: "RVC",
            }],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_id_numbers_have_valid_check_digits_and_match_gender_and_birth_date() {
        for r in DEMO_RESIDENTS {
            assert!(id_number_is_valid(r.id_number), "{}", r.card_number);
            assert_eq!(&r.id_number[6..14], r.birth_date.replace('-', ""));
            let odd = (r.id_number.as_bytes()[16] - b'0') % 2 == 1;
            assert_eq!(r.gender, if odd { "M" } else { "F" });
            assert!(
                RESIDENT_RECORDS
                    .iter()
                    .any(|d| d.card_number == r.card_number)
            );
        }
        assert!(!id_number_is_valid("330106198503122315"));
        assert!(!id_number_is_valid("33010619850312231"));
        assert!(
            DEMO_RESIDENTS
                .iter()
                .any(|r| r.name.contains('𠮷') || r.name.contains('堃'))
        );
    }

    #[test]
    fn contribution_plans_are_relative_to_the_current_month() {
        let today = time::macros::date!(2026 - 01 - 15);
        let plan = |card: &str| {
            RESIDENT_RECORDS
                .iter()
                .find(|r| r.card_number == card)
                .and_then(|r| r.contributions)
        };
        let first = plan(DEMO_RESIDENTS[0].card_number).unwrap().months(today);
        assert_eq!(first.len(), 60);
        assert_eq!(first.last().unwrap(), "2025-12");
        assert_eq!(first.first().unwrap(), "2021-01");
        let gap = plan(DEMO_RESIDENTS[1].card_number).unwrap().months(today);
        for missing in ["2025-05", "2025-06", "2025-07"] {
            assert!(!gap.contains(&missing.to_owned()), "{missing}");
        }
        assert!(gap.contains(&"2025-04".to_owned()) && gap.contains(&"2025-08".to_owned()));
        assert!(plan(DEMO_RESIDENTS[4].card_number).is_none());
    }

    #[test]
    fn demo_applications_belong_to_demo_residents() {
        for app in applications() {
            assert!(
                DEMO_RESIDENTS
                    .iter()
                    .any(|r| r.id_number == app.applicant_id_number),
                "{}",
                app.application_number
            );
            assert!(crate::wire::is_application_number(app.application_number));
        }
        for origin in origin_certificates() {
            assert!(crate::wire::is_application_number(
                origin.application_number
            ));
            assert!(crate::wire::is_exporter_code(origin.exporter_code));
        }
    }

    #[test]
    fn catalogue_has_the_services_the_kiosk_relies_on() {
        let services = services();
        let categories = categories();
        for id in [
            "si-payment-certificate",
            "household-proof",
            "origin-certificate",
            "application-progress",
            "address-change",
        ] {
            assert!(services.iter().any(|s| s.id == id), "{id}");
        }
        for s in &services {
            assert!(categories.iter().any(|c| c.id == s.category), "{}", s.id);
        }
        assert!(
            services
                .iter()
                .any(|s| matches!(s.opening_hours, OpeningHours::Weekly { .. }))
        );
    }
}
