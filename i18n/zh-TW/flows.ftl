# The resident services beyond the first certificate: keypad, periods, origin forms,
# progress, submissions, phone hand-off, rating reasons.

keypad-empty = 請用下方按鍵輸入
keypad-clear = 清空
keypad-application-number-title = 請輸入申請編號
keypad-application-number-hint = 編號在受理回執上：兩個字母加 13 位數字
keypad-application-number-invalid = 編號不完整：兩個字母開頭，共 15 位
keypad-exporter-code-title = 請輸入出口商代碼
keypad-exporter-code-hint = 海關備案的 10 位企業代碼，或 18 位統一社會信用代碼
keypad-exporter-code-invalid = 代碼應為 10 位或 18 位
keypad-house-number-title = 請輸入門牌號
keypad-house-number-hint = 只填數字，例如 90
keypad-house-number-invalid = 請輸入 1 到 4 位數字，不以 0 開頭
keypad-room-number-title = 請輸入房間號
keypad-room-number-hint = 只填數字，例如 501
keypad-room-number-invalid = 請輸入 1 到 4 位數字，不以 0 開頭
keypad-phone-title = 請輸入手機號碼
keypad-phone-hint = 11 位手機號碼，用於辦理進度通知
keypad-phone-invalid = 請輸入以 1 開頭的 11 位手機號碼
keypad-count = 已輸入 { $count } 位

choose-period-title = 請選擇證明的時間範圍
choose-period-hint = 證明將列出該期間每月的繳費紀錄
period-last-12-months = 最近 12 個月
    .hint = 最常用
period-last-24-months = 最近 24 個月
    .hint = 貸款、落戶等常需兩年紀錄
period-this-year = 今年以來
    .hint = 從今年 1 月到現在
period-last-year = 去年全年
    .hint = 去年 1 月到 12 月

progress-choice-title = 怎樣查詢辦件進度？
progress-choice-hint = 請選擇一種方式
progress-choice-by-number = 輸入申請編號
    .hint = 查詢任意一件申請
progress-choice-by-card = 刷社會保障卡
    .hint = 查看本人名下的所有申請
progress-choice-by-identity = 刷社保卡或掃手機身分碼
    .hint = 查看本人名下的所有申請
progress-list-title = 請選擇要查看的申請
progress-list-hint = 以下是您名下的申請

submission-form-title = 戶籍地址變更申報
submission-form-hint = 請點擊每一項填寫，全部填好後點「下一步」
submission-confirm-title = 請核對申報內容
submission-confirm-hint = 確認無誤後點擊「送出」
submission-district-title = 請選擇新地址所在街道
submission-district-hint = 如不在列表中，請在上班時間前往窗口辦理
form-district = 街道
form-house = 門牌號
form-room = 房間號
form-phone = 手機號碼
form-new-address = 新地址
form-tap-to-fill = 點擊填寫
street-xihu-wensan = 西湖區 文三路
street-xihu-tianmushan = 西湖區 天目山路
street-gongshu-hushu-south = 拱墅區 湖墅南路
street-shangcheng-jiefang = 上城區 解放路
street-binjiang-jiangnan = 濱江區 江南大道
street-yuhang-wenyi-west = 餘杭區 文一西路
form-change = 修改
submission-privacy = 送出後，您的資料僅用於本次申報，本機不保留。
submission-next = 下一步
submission-submit = 送出
submitting-title = 正在送出
submitting-hint = 申報已保存在本機，正在傳送，通常幾秒鐘

receipt-title = 戶籍地址變更申報回執
receipt-title-refused = 戶籍地址變更申報：未受理
receipt-service = 事項
receipt-service-address-change = 戶籍地址變更申報
receipt-received-at = 提交時間
receipt-status = 狀態
receipt-status-accepted = 已受理（政務服務平台已收到）
receipt-status-queued = 已保存在本機，尚未送達；網路恢復後自動發送
receipt-status-refused = 未受理
receipt-reason = 原因
receipt-reference-accepted = 受理回執號
receipt-reference-queued = 本機登記號
receipt-note-accepted = 憑受理回執號可在任一自助終端「辦件查詢」或服務窗口查詢辦理進度。
receipt-note-queued = 受理回執號在申報送達後產生，通常在網路恢復後幾分鐘內。屆時用社會保障卡在任一自助終端「辦件查詢 → 用社保卡查詢」即可找到本申報；也可憑本機登記號到服務窗口查詢。
receipt-note-refused = 本次申報沒有提交成功，也不會再自動提交。
receipt-banner-accepted = 申報已受理，請列印回執留存
receipt-banner-queued = 申報已保存在本機，網路恢復後自動發送，無需再次提交
receipt-banner-refused = 申報未被受理

preview-title-certificate = 請核對證明內容
preview-hint-certificate = 確認無誤後點擊「列印」
preview-code-certificate = 驗證碼：{ $code }
preview-title-origin-form = 請核對原產地證書
preview-hint-origin-form = 將使用 A4 寬幅紙列印
preview-code-origin-form = 證書編號：{ $code }
preview-title-progress = 辦件進度
preview-hint-progress = 可列印留存，也可直接完成
preview-code-progress = 申請編號：{ $code }
preview-title-receipt = 申報回執
preview-hint-receipt = 請列印回執留存
preview-code-receipt = 參考號：{ $code }
preview-phone = 傳送到手機
flow-finish = 完成

fetching-origin-form-title = 正在查詢原產地證書
fetching-progress-title = 正在查詢辦件進度
fetching-hint = 正在向政務服務平台查詢，通常不超過半分鐘

phone-link-title = 用手機掃碼查看證明
phone-link-hint = 打開手機相機或微信「掃一掃」
phone-link-expiry = 連結 10 分鐘內有效，只能查看這一份證明。
phone-link-close = 完成

origin-unsupported-title = 本機無法列印原產地證書
origin-unsupported-action = 原產地證書需要 A4 寬幅印表機。請到配有 A4 印表機的自助終端或窗口列印，證書已審核通過，無需重新申請。
origin-unsupported-number = 申請編號：{ $number }

rating-reasons-title = 哪裡可以做得更好？
rating-reasons-hint = 可多選，也可直接傳送
rating-send = 傳送評價
reason-too-slow = 等待時間太長
reason-hard-to-use = 操作不方便
reason-printer-problem = 列印有問題
reason-card-problem = 讀卡有問題
reason-information-wrong = 資料不正確

flow-error-no-applications = 您名下沒有辦理中的申請
    .action = 如有疑問，請在上班時間前往窗口諮詢。
outbox-error-failed = 本機暫時無法保存您的申報
    .action = 您的申報沒有送出。請稍後再試，或在上班時間前往窗口辦理。
services-unavailable-offline = 網路中斷，暫停辦理
