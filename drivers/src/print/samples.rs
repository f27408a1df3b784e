//! Sample documents with made-up people and companies: for demo mode, goldens,
//! benchmarks and tests.

use super::layouts::{
    CertificateContent, LabeledText, OriginFormContent, ReceiptContent, TableContent, TestPageInfo,
};

/// A social insurance payment certificate (社保缴费证明) with a monthly table.
pub fn social_insurance() -> CertificateContent {
    let months = (1..=12).map(|month| {
        vec![
            format!("2024-{month:02}"),
            "6,850.00".to_owned(),
            "1,096.00".to_owned(),
            "548.00".to_owned(),
            if month == 7 {
                "补缴".to_owned()
            } else {
                "正常".to_owned()
            },
        ]
    });
    CertificateContent {
        title: "社会保险个人参保缴费证明".to_owned(),
        subtitle: Some("Social Insurance Payment Certificate".to_owned()),
        issuer: "杭州市滨江区社会保险管理服务中心".to_owned(),
        fields: vec![
            ("姓名".to_owned(), "张三".to_owned()),
            ("公民身份号码".to_owned(), "330108199001011234".to_owned()),
            ("社会保障号码".to_owned(), "330108199001011234".to_owned()),
            ("参保单位".to_owned(), "杭州示例科技有限公司".to_owned()),
            (
                "险种".to_owned(),
                "企业职工基本养老保险、失业保险、工伤保险".to_owned(),
            ),
            ("缴费期间".to_owned(), "2024-01 至 2024-12".to_owned()),
        ],
        table: Some(TableContent {
            caption: Some("逐月缴费明细（单位：元）".to_owned()),
            headers: vec![
                "年月".into(),
                "缴费基数".into(),
                "单位缴纳".into(),
                "个人缴纳".into(),
                "状态".into(),
            ],
            rows: months.collect(),
        }),
        notes: vec![
            "本证明仅证明上述期间的参保缴费情况，涂改无效。".to_owned(),
            "扫描二维码或登录政务服务网输入验证码核验真伪，有效期三个月。".to_owned(),
        ],
        verification_code: "SB-2024-7F3K-9Q2M".to_owned(),
        verification_label: "验证码".to_owned(),
        qr_payload: "https://verify.example.invalid/v1/certificates/SB-2024-7F3K-9Q2M".to_owned(),
        issued_at: "2025-03-18 02:14".to_owned(),
    }
}

/// A household registration proof (户籍证明): fields only.
pub fn household_registration() -> CertificateContent {
    CertificateContent {
        title: "户籍证明".to_owned(),
        subtitle: Some("Household Registration Certificate".to_owned()),
        issuer: "杭州市公安局滨江区分局长河派出所".to_owned(),
        fields: vec![
            ("姓名".to_owned(), "李四".to_owned()),
            ("性别".to_owned(), "女".to_owned()),
            ("民族".to_owned(), "汉".to_owned()),
            ("出生日期".to_owned(), "1985年6月15日".to_owned()),
            ("公民身份号码".to_owned(), "33010819850615002X".to_owned()),
            (
                "户籍地址".to_owned(),
                "浙江省杭州市滨江区长河街道江南大道 1234 号 5 幢 2 单元 601 室".to_owned(),
            ),
            ("户主姓名".to_owned(), "李大明".to_owned()),
            ("与户主关系".to_owned(), "女".to_owned()),
            ("登记日期".to_owned(), "2003年9月1日".to_owned()),
        ],
        table: None,
        notes: vec!["兹证明该居民户籍登记信息如上。本证明自出具之日起三个月内有效。".to_owned()],
        verification_code: "HJ-2025-0318-A7KD".to_owned(),
        verification_label: "验证码".to_owned(),
        qr_payload: "https://verify.example.invalid/v1/certificates/HJ-2025-0318-A7KD".to_owned(),
        issued_at: "2025-03-18 02:20".to_owned(),
    }
}

/// An RCEP certificate of origin for a made-up exporter, in English as the form is.
pub fn rcep_origin_form() -> OriginFormContent {
    let headers = [
        "6. Item number",
        "7. Marks and numbers on packages",
        "8. Number and kind of packages; and description of goods",
        "9. HS code of the goods (6 digit)",
        "10. Origin conferring criterion",
        "11. RCEP country of origin",
        "12. Quantity (gross weight or other measurement), and value (FOB)",
        "13. Invoice number(s) and date of invoice(s)",
    ];
    let items = vec![
        vec![
            "1".into(),
            "N/M".into(),
            "120 CARTONS OF STAINLESS STEEL VACUUM FLASKS 500ML (不锈钢真空保温杯)".into(),
            "9617.00".into(),
            "CTH".into(),
            "CHINA".into(),
            "1,440 PCS\nUSD 8,640.00".into(),
            "HZ-INV-250301\n2025-03-01".into(),
        ],
        vec![
            "2".into(),
            "ESTN-2\nC/NO.1-40".into(),
            "40 CARTONS OF BAMBOO CUTTING BOARDS".into(),
            "4419.11".into(),
            "WO".into(),
            "CHINA".into(),
            "800 PCS\nUSD 2,400.00".into(),
            "HZ-INV-250301\n2025-03-01".into(),
        ],
        vec![
            "3".into(),
            "N/M".into(),
            "25 CARTONS OF SILK SCARVES, 100% MULBERRY SILK".into(),
            "6214.10".into(),
            "PE".into(),
            "CHINA".into(),
            "500 PCS\nUSD 6,250.00".into(),
            "HZ-INV-250302\n2025-03-02".into(),
        ],
    ];
    OriginFormContent {
        title: "CERTIFICATE OF ORIGIN".to_owned(),
        subtitle: Some(
            "Form RCEP · Regional Comprehensive Economic Partnership Agreement".to_owned(),
        ),
        certificate_no: LabeledText::new("Certificate No.", "R2533010800042"),
        issued_in: LabeledText::new("Issued in", "THE PEOPLE'S REPUBLIC OF CHINA"),
        exporter: LabeledText::new(
            "1. Exporter's name, address and country",
            "HANGZHOU EXAMPLE HOUSEWARES CO., LTD.\nNO. 88 JIANGNAN AVENUE, BINJIANG DISTRICT,\nHANGZHOU, ZHEJIANG, CHINA",
        ),
        producer: LabeledText::new(
            "2. Producer's name, address and country (if known)",
            "AVAILABLE UPON REQUEST",
        ),
        importer: LabeledText::new(
            "3. Importer's or consignee's name, address and country (if applicable)",
            "SAKURA TRADING K.K.\n2-11-3 MINATOMIRAI, NISHI-KU, YOKOHAMA, JAPAN",
        ),
        transport: LabeledText::new(
            "4. Means of transport and route (if known)",
            "Departure date: 2025-03-20    Vessel: EVER EXAMPLE V.025E    Port of loading: NINGBO, CHINA    Port of discharge: YOKOHAMA, JAPAN",
        ),
        official_use: LabeledText::new(
            "5. For official use",
            "☐ Preferential tariff treatment given\n☐ Preferential tariff treatment not given",
        ),
        item_headers: headers.iter().map(|header| (*header).to_owned()).collect(),
        items,
        remarks: LabeledText::new("14. Remarks", ""),
        declaration: LabeledText::new(
            "15. Declaration by the exporter or producer",
            "The undersigned hereby declares that the above details and statement are correct and that the goods covered in this Certificate comply with the requirements specified in the RCEP Agreement. These goods are exported to: JAPAN\n\nHANGZHOU, 2025-03-18",
        ),
        certification: LabeledText::new(
            "16. Certification",
            "On the basis of control carried out, it is hereby certified that the information herein is correct and that the goods described comply with the origin requirements specified in the RCEP Agreement.\n\nHANGZHOU, 2025-03-18",
        ),
        verification_code: "R2533010800042-8HX2".to_owned(),
        verification_label: "Verification code".to_owned(),
        qr_payload: "https://verify.example.invalid/v1/origin/R2533010800042-8HX2".to_owned(),
    }
}

/// A submission receipt.
pub fn submission_receipt() -> ReceiptContent {
    ReceiptContent {
        title: "材料提交回执".to_owned(),
        rows: vec![
            ("办理事项".to_owned(), "城乡居民基本医疗保险参保登记".to_owned()),
            ("申请人".to_owned(), "王*五".to_owned()),
            ("提交材料".to_owned(), "3 份（身份证明、户口簿、照片）".to_owned()),
            ("提交时间".to_owned(), "2025-03-18 02:31".to_owned()),
            ("设备编号".to_owned(), "BJ-ESTATION-07".to_owned()),
        ],
        notes: vec!["工作人员将在 3 个工作日内审核，结果将以短信通知。凭受理编号可在任意 e 站查询办理进度。".to_owned()],
        reference_label: "受理编号".to_owned(),
        reference: "2025031800731".to_owned(),
        qr_payload: Some("https://service.example.invalid/progress/2025031800731".to_owned()),
        footer: Some("24 小时政务服务 e 站 · 让数据多跑路，群众少跑腿".to_owned()),
    }
}

/// A technician test page with made-up kiosk facts.
pub fn test_page_info() -> TestPageInfo {
    TestPageInfo {
        title: "打印机测试页 Printer test page".to_owned(),
        rows: vec![
            ("Kiosk".to_owned(), "BJ-ESTATION-07".to_owned()),
            ("Printer".to_owned(), "tcp://127.0.0.1:9100".to_owned()),
            (
                "Software".to_owned(),
                concat!("estation ", env!("CARGO_PKG_VERSION")).to_owned(),
            ),
            ("Time".to_owned(), "2025-03-18 02:40".to_owned()),
        ],
    }
}
