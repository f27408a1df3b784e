# Voice guidance: what each screen says aloud, written to be heard. A blind
# resident cannot see the screen: no "點擊", "上方", "看到"; say "按". Each screen's
# message says what it is and what it asks; `.how` says how to answer by touch or
# key. Codes arrive already spelled one character at a time.

speech-attract = 24小時政務服務e站，全天候自助服務，可以列印證明、查詢辦件、送出申報。
    .how = 按螢幕任意位置或任意鍵開始。開始後每一步都有語音提示。
speech-language = 請選擇語言：簡體中文、繁體中文或英文。
    .how = 按一種語言的按鈕；也可以用方向鍵移動，按確認鍵選擇。
speech-services = 請選擇要辦理的事項。
    .how = 按事項名稱辦理；也可以用方向鍵逐項移動，按確認鍵選擇。按「返回」回到上一步。
speech-services-loading = 正在取得服務列表，請稍候。
speech-insert-card = 請插入社會保障卡。
    .how = 將卡片晶片朝上、晶片一端向前，插入讀卡機，插好後會自動繼續。辦理完成前請不要拔卡。按「返回」回到上一步。
speech-identify = 請插入社會保障卡，或者掃描手機上的身分碼。
    .how = 1 號讀卡機是一條窄縫，2 號掃碼窗口是它旁邊一塊平的玻璃。有卡的，將卡片晶片朝上插入讀卡機，插好後會自動繼續。沒帶卡的，打開手機上電子社保卡或政務服務應用裡的身分碼，手機螢幕朝著掃碼窗口，相距約十公分，聽到提示音就好。按「返回」回到上一步。
speech-checking-code = 正在核驗身分碼。
    .how = 請稍候，核驗完成後會自動繼續。
speech-goodbye-phone = 感謝使用。請帶好您的手機和隨身物品。
    .how = 按「完成」結束，本機將回到首頁。
speech-pin-entry = 請輸入社會保障卡密碼，共 4 到 8 位數字。為保護您的密碼，每輸入一位只讀作「星號」。
    .how = 用數字鍵逐位輸入，按「刪除」刪掉一位，輸完後按「確定」。
speech-reading-card = 正在讀卡，請不要拔出卡片。
    .how = 請稍候，讀完後會自動繼續。
speech-choose-period = 請選擇證明的時間範圍，證明將列出該期間每月的繳費紀錄。
    .how = 按一個時間範圍；也可以用方向鍵移動，按確認鍵選擇。
speech-keypad-how = 用數字鍵輸入，按「刪除」刪掉一位，按「清空」全部重輸，輸完後按「確定」。
speech-keypad-letters-how = 可以輸入字母和數字。按「刪除」刪掉一位，按「清空」全部重輸，輸完後按「確定」。
speech-keypad-complete = 輸入完整，可以按「確定」。
speech-progress-choice = 怎樣查詢辦件進度？有兩種方式。
    .how = 按其中一種方式；也可以用方向鍵移動，按確認鍵選擇。
speech-progress-list = 請選擇要查看的申請。
    .how = 按一個申請編號查看；也可以用方向鍵移動，按確認鍵選擇。
speech-submission-form = 戶籍地址變更申報。需要填寫新地址所在街道、門牌號、房間號和手機號碼。
    .how = 按一項進行填寫，全部填好後按「下一步」。
speech-submission-district = 請選擇新地址所在街道。如不在列表中，請在上班時間前往窗口辦理。
    .how = 按一個街道；也可以用方向鍵移動，按確認鍵選擇。
speech-submission-confirm = 請核對申報內容。
    .how = 確認無誤請按「送出」；需要修改請按對應的項目。送出後，您的資料僅用於本次申報，本機不保留。
speech-issuing = 正在開立證明，正在向政務服務平台申請。
    .how = 請稍候，完成後會自動繼續。
speech-fetching-origin-form = 正在查詢原產地證書。
    .how = 請稍候，完成後會自動繼續。
speech-fetching-progress = 正在查詢辦件進度。
    .how = 請稍候，完成後會自動繼續。
speech-submitting = 正在送出，申報已儲存在本機，正在傳送。
    .how = 請稍候，完成後會自動繼續。
speech-certificate-preview = 證明已開立，列印前請核對。
    .how = 核對無誤後按「列印」；也可以按「傳送到手機」，或按「首頁」結束辦理。
speech-origin-form-preview = 原產地證書已找到，列印前請核對，將使用 A 4 寬幅紙列印。
    .how = 核對無誤後按「列印」，或按「首頁」結束辦理。
speech-progress-result = 辦件進度已查到。
    .how = 需要留存請按「列印」，不需要請按「完成」。
speech-submission-receipt = 申報回執。
    .how = 請按「列印」留存回執，或按「完成」結束辦理。
speech-origin-form-unsupported = 本機無法列印原產地證書。
    .how = 按「首頁」結束辦理。
speech-phone-link = 可以用手機查看這份證明：這一步需要用手機相機或微信掃一掃，掃描本機顯示的 QR 碼；如需協助，可請他人幫忙。連結 10 分鐘內有效，只能查看這一份證明。
    .how = 按「返回」回到證明。
speech-printing = 正在列印，列印完成前請不要離開。
    .how = 請稍候，列印完成後會提示您取紙。
speech-printing-progress = 已完成百分之 { $percent }。
speech-take-paper = 證明已從出紙口送出，請取走。
    .how = 取走後按「我已取走」。
speech-rating = 請為本次服務評價：滿意、普通或不滿意。
    .how = 按一個評價，或按「不評價」略過；也可以用方向鍵移動，按確認鍵選擇。
speech-rating-reasons = 哪裡可以做得更好？可以多選，也可以直接送出。
    .how = 按一項選擇或取消，選好後按「傳送評價」。
speech-goodbye = 感謝使用。請取回您的社會保障卡和隨身物品。
    .how = 按「完成」結束，本機將回到首頁。
speech-error = 發生了問題。
    .how = 按「重試」再試一次，或按「首頁」結束辦理。
speech-maintenance-login = 技術人員登入。如有服務卡請先插卡，然後輸入密碼。
    .how = 用數字鍵輸入密碼，每輸入一位只讀作「星號」，輸完後按「確定」。
speech-checking-technician = 正在核驗技術人員身分。
    .how = 請稍候。
speech-maintenance-menu = 維護模式。可以進行設備自檢或螢幕檢測。
    .how = 按「設備自檢」「螢幕檢測」或「退出維護模式」。
speech-running-selftest = 正在自檢，檢查各項設備，約需數秒。
    .how = 請稍候，完成後會讀出自檢結果。
speech-selftest-report = 自檢報告，結果已隨下一次心跳回報。
    .how = 按「再次自檢」重新檢查，或按「返回」。
speech-selftest-counts = { $pass } 項正常，{ $warn } 項注意，{ $fail } 項故障。
speech-display-test = 螢幕檢測：由技術人員逐一檢查色條和每個格子，需要目視完成。
    .how = 檢測結束後按「正常」或「有問題」。

speech-idle = 您還在嗎？{ $seconds } 秒後將返回首頁並清除您的資料。
    .how = 如需繼續，請按「我需要更多時間」或任意鍵。
speech-degraded = 注意：部分服務暫時無法使用。

# Pieces the screens' speech is built from.
speech-list-count = 共 { $count } 項。
speech-list-item = 第 { $number } 項，{ $item }。
speech-list-selected = { $item }，已選
speech-list-unavailable = { $item }，暫時無法使用
speech-choice-with-hint = { $choice }，{ $hint }
speech-entered = 已輸入：{ $value }。
speech-nothing-entered = 尚未輸入。
# PIN digits are never spoken: each is "星號" (asterisk).
speech-pin-star = 星號
speech-pin-entered = 已輸入 { $count } 位：{ $stars }。
speech-field = { $label }：{ $value }。
speech-field-empty = { $label }：未填寫。
speech-document-title = 這是{ $title }。
# Only the English voice says these (it cannot read Chinese); every locale has them.
speech-document-in-chinese = 證明內容為中文。
speech-name-in-chinese = 中文名稱
