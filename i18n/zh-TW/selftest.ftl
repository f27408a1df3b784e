# 自檢報告：每項檢查的名稱、檢查結果和處理辦法，覆蓋 CHECK_CODES
# （src/ops/selftest/model.rs）中的每個程式碼。報告的 JSON 保留英文原因和處理辦法
# 供運維平臺使用；螢幕顯示這裡的文字，測得的詳情以小字列在下方。

selftest-detail = 詳情：{ $detail }

check-card-reader = 讀卡機
check-card-reader-ok = 讀卡機已連線
check-card-reader-pcsc-unavailable = 讀卡服務（pcscd）沒有回應
    .action = 啟動 pcscd（systemctl start pcscd）後再次自檢
check-card-reader-pcsc-error = 讀卡服務無法列出讀卡機
    .action = 重啟 pcscd；如再次出現，請更換讀卡機
check-card-reader-no-reader = 未連接讀卡機
    .action = 檢查讀卡機的 USB 線和電源，重新插拔
check-card-reader-not-configured = 本機設定為不使用讀卡機
    .action = 連接讀卡機，不帶 --no-card-reader 再次自檢

check-card-read = 讀卡
check-card-read-ok = 已成功讀卡
check-card-read-no-card = 讀卡機中沒有卡，未測試讀卡
    .action = 插入社保卡或測試卡後再次自檢
check-card-read-mute-card = 讀卡機中的卡沒有應答
    .action = 換一張卡試試；如所有卡都無應答，請清潔或更換讀卡機
check-card-read-unknown-card = 卡有應答，但不是本機能讀取的卡種
    .action = 請用社保卡或服務卡測試
check-card-read-read-failed = 讀卡失敗
    .action = 重新插卡；如多張卡都失敗，請更換讀卡機
check-card-read-not-configured = 未測試讀卡
    .action = 連接讀卡機並插卡後再次自檢

check-scanner = 掃碼器
check-scanner-ok = 掃碼器已連線
check-scanner-starting = 掃碼器仍在啟動
    .action = 等待幾秒後再次自檢
check-scanner-stopped = 掃碼器未在讀取
    .action = 重啟自助終端（systemctl restart estation）
check-scanner-not-found = 在設定的位置找不到掃碼器
    .action = 插上掃碼器，或更正 kiosk.toml 中的 [scanner] 設定
check-scanner-permission-denied = 自助終端無權開啟掃碼器
    .action = 按 docs/scanner.md 安裝 udev 規則，使自助終端能開啟掃碼器
check-scanner-busy = 掃碼器正被其他程式佔用
    .action = 關閉佔用它的程式，掃碼器只能由自助終端獨佔
check-scanner-not-a-scanner = 設定為掃碼器的裝置不是掃碼器
    .action = 檢查 kiosk.toml 中的 [scanner] 設定
check-scanner-unsupported = 這種掃碼器模式只在 Linux 上可用
    .action = 將掃碼器切換為 USB 串列埠（USB-CDC）模式
check-scanner-unavailable = 無法讀取掃碼器
    .action = 檢查掃碼器連線，自助終端會自動重新開啟
check-scanner-internal = 掃碼器檢查未能執行
    .action = 再次自檢；如再次出現請上報
check-scanner-not-configured = 未設定掃碼器，居民只能刷卡辦理
    .action = 如本機配有掃碼器，請在 kiosk.toml 中設定（docs/scanner.md）

check-printer = 印表機
check-printer-ok = 印表機就緒
check-printer-paper-near-end = 紙卷即將用完
    .action = 儘快更換紙卷
check-printer-paper-end = 印表機缺紙
    .action = 裝入新紙卷並合上機蓋
check-printer-cover-open = 印表機機蓋未合上
    .action = 合上印表機機蓋
check-printer-cutter-error = 切紙刀卡紙
    .action = 清除切紙刀處的卡紙
check-printer-printer-error = 印表機報告故障
    .action = 關閉印表機電源再開啟；如再次出現請更換印表機
check-printer-bad-uri = 印表機設定無效
    .action = 更正 kiosk.toml 中的印表機設定
check-printer-unreachable = 印表機沒有回應
    .action = 檢查印表機電源和連線（或網路）後再次自檢
check-printer-print-failed = 列印失敗
    .action = 再次自檢；如再次出現，請上報詳情
check-printer-not-configured = 未設定印表機
    .action = 在 kiosk.toml 中設定印表機（docs/deployment.md）

check-printer-test-page = 測試頁
check-printer-test-page-ok = 測試頁已列印
check-printer-test-page-not-ready = 印表機未就緒，未列印測試頁
    .action = 先排除印表機故障
check-printer-test-page-paper-end = { check-printer-paper-end }
    .action = { check-printer-paper-end.action }
check-printer-test-page-cover-open = { check-printer-cover-open }
    .action = { check-printer-cover-open.action }
check-printer-test-page-cutter-error = { check-printer-cutter-error }
    .action = { check-printer-cutter-error.action }
check-printer-test-page-printer-error = { check-printer-printer-error }
    .action = { check-printer-printer-error.action }
check-printer-test-page-bad-uri = { check-printer-bad-uri }
    .action = { check-printer-bad-uri.action }
check-printer-test-page-unreachable = { check-printer-unreachable }
    .action = { check-printer-unreachable.action }
check-printer-test-page-print-failed = { check-printer-print-failed }
    .action = { check-printer-print-failed.action }

check-central = 中心服務
check-central-ok = 中心服務有回應，並接受本機
check-central-client-error = 自助終端無法建立連線
    .action = 請向服務中心報告此故障
check-central-tls-invalid = 中心服務的證書不受信任
    .action = 檢查自助終端時鐘和服務證書
check-central-timeout = 中心服務未及時回應
    .action = 檢查網路連線
check-central-unreachable = 無法連線中心服務
    .action = 檢查網線、路由器和 central_url 設定
check-central-bad-status = 中心服務返回錯誤
    .action = 服務在執行但出錯，請告知服務中心
check-central-kiosk-unauthorized = 中心服務拒絕本機
    .action = 重新登記本機並安裝新的令牌
check-central-degraded = 中心服務有回應，但帶身份的請求失敗
    .action = 再次自檢；如再次出現請告知服務中心
check-central-not-configured = 本機尚未登記
    .action = 登記本機：estation enroll --central URL --code CODE

check-clock = 時鐘
check-clock-ok = 時鐘與中心服務一致
check-clock-not-checked = 未比對時鐘
    .action = 先排除中心服務的問題
check-clock-no-date = 中心服務未傳送時間
    .action = 請人工核對時鐘
check-clock-skew = 時鐘與中心服務不一致
    .action = 校準時鐘並開啟網路校時（NTP），簽名校驗依賴準確時間
check-clock-not-configured = 本機登記後才與中心服務比對時鐘
    .action = 先登記本機

check-disk = 磁碟空間
check-disk-ok = 磁碟空間充足
check-disk-disk-full = 磁碟即將佔滿
    .action = 立即清理磁碟：舊日誌、列印任務檔案
check-disk-disk-low = 磁碟剩餘空間不多
    .action = 儘快清理磁碟空間
check-disk-disk-error = 無法讀取資料目錄的剩餘空間
    .action = 檢查資料目錄是否存在、磁碟是否已掛載
check-disk-not-configured = 未設定資料目錄
    .action = 在 kiosk.toml 中設定 data_dir

check-outbox = 待傳送佇列
check-outbox-ok = 居民提交的內容均已送達或正在傳送
check-outbox-sender-failing = 待傳送佇列的資料庫出錯，無法傳送
    .action = 檢查磁碟和資料目錄；恢復前不會傳送任何內容
check-outbox-backlog = 居民的申請正在排隊等待傳送
    .action = 檢查網路連線，恢復後會自動傳送
check-outbox-rejected = 中心服務拒收了部分申請
    .action = 請告知服務中心核查被拒收的申請
check-outbox-not-configured = 自助終端執行後才會有待傳送佇列，目前沒有待傳送內容
    .action = 自助終端接待居民之前無需處理

check-config = 組態
check-config-ok = 已啟用簽名組態
check-config-no-bundle = 未安裝簽名組態，正在使用內建設定
    .action = 為本機發布組態
check-config-expired = 簽名組態已過期
    .action = 發布新版組態
check-config-not-configured = 本機登記後才會獲取組態
    .action = 為本機發布組態

check-display = 螢幕
check-display-ok = 觸控網格和色條檢測通過
check-display-not-tested = 螢幕未檢測
    .action = 在維護模式中執行螢幕檢測
check-display-display-fault = 螢幕檢測未通過
    .action = 更換或重新校準觸控螢幕
check-display-not-configured = 螢幕未檢測
    .action = 在維護模式中執行螢幕檢測

check-voice = 語音播報
check-voice-ok = 語音播報正常，已連接喇叭
check-voice-no-engine = 未安裝語音引擎，語音播報無聲
    .action = 安裝 espeak-ng 軟體包
check-voice-no-voice = 缺少某種語言的語音
    .action = 安裝 espeak-ng-data（含普通話、粵語和英語語音）
check-voice-engine-failed = 語音引擎出錯
    .action = 執行 estation speak --screen attract --out voice.wav 檢視原因
check-voice-no-audio-device = 語音引擎正常，但未連接喇叭
    .action = 連接喇叭後再次自檢；在此之前語音播報無聲

check-devices = 裝置檢查
check-devices-internal = 裝置檢查意外中止
    .action = 再次自檢；如再次出現請上報
