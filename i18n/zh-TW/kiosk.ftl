# Kiosk screens, traditional Chinese.

station-name = 24小時政務服務e站
# The station's help line from its configuration, under an error.
help-phone-line = 需要協助請撥打 { $phone }
station-name-short = 24小時政務服務e站
station-motto = 全天候自助服務 · 不打烊
attract-open = 24小時開放 · 自助服務可用
attract-degraded = 部分服務暫不可用
attract-services = 證明列印 · 原產地證書 · 辦件查詢 · 材料提交
attract-start = 點擊螢幕開始
attract-start-hint = 依照步驟提示操作即可
attract-start-short = 開始辦理
attract-voice = 語音引導
attract-voice-hint = 看不清螢幕？按這裡或按 F2 鍵
attract-languages = 简体中文 · 繁體中文 · English
banner-degraded = 網路或設備異常：部分服務暫停，已送出的事項將自動補送

language-title = 請選擇語言
language-hint = 辦理過程中可隨時在上方切換

services-title = 請選擇要辦理的事項
services-hint = 目前開放的自助服務
services-loading = 正在取得服務列表…
services-none-open = 目前沒有開放的自助服務，請在上班時間前往大廳窗口辦理。

insert-card-title = 請插入社會保障卡
insert-card-reader = 讀卡機
insert-card-card = 社會保障卡
insert-card-hint = 晶片朝上，插入螢幕下方的讀卡機，辦理完成前請不要拔卡。
demo-insert-card = 插入示範卡
identify-title = 請插卡，或掃描手機上的身分碼
identify-picture = 終端正面示意圖：1 號是讀卡機，在螢幕下方；2 號是掃碼窗口，在讀卡機下方。
identify-card-title = 插入社會保障卡
identify-card-hint = 晶片朝上，插入 1 號讀卡機，辦理完成前請不要拔卡。
identify-phone-title = 沒帶卡？掃手機身分碼
identify-phone-hint = 打開電子社保卡或政務服務 App 的身分碼，螢幕朝下，放在 2 號掃碼窗口上方約 10 公分處，聽到提示音即可。
checking-code-title = 正在核驗身分碼
checking-code-hint = 請稍候，通常幾秒鐘
goodbye-phone-reminder = 請帶好您的手機和隨身物品
demo-only = 僅示範模式

pin-title = 請輸入卡片密碼
pin-hint = 請用下方數字鍵輸入社保卡密碼
pin-wrong = 密碼不正確，還可嘗試 { $tries } 次
pin-wrong-next = 次數用完後卡片將被鎖定，請在上班時間到服務窗口辦理解鎖。
keypad-delete = 刪除
keypad-ok = 確定

reading-card-title = 正在讀卡
reading-card-hint = 請不要拔出卡片，通常幾秒鐘
issuing-title = 正在開立證明
issuing-hint = 正在向政務服務平台申請，通常不超過半分鐘
printing-title = 正在列印
printing-hint = 列印完成前請不要離開，約需半分鐘

preview-title = 請核對證明內容
preview-hint = 確認無誤後點擊下方「列印」
preview-code = 驗證碼：{ $code }
preview-print = 列印

take-paper-title = 請取走列印的證明
take-paper-hint = 證明已從螢幕下方的出紙口送出
take-paper-done = 我已取走

rating-title = 請為本次服務評價
rating-hint = 您的評價將幫助我們改進服務
rating-good = 滿意
rating-average = 普通
rating-bad = 不滿意
rating-skip = 不評價

goodbye-title = 感謝使用
goodbye-rated = 評價已收到，謝謝！
goodbye-card-reminder = 請取回您的社會保障卡和隨身物品
goodbye-done = 完成

nav-back = 返回
nav-home = 首頁
elderly-toggle = 大字
voice-toggle = 語音
voice-toggle-on = 開啟語音引導
voice-toggle-off = 關閉語音引導
error-retry = 重試
error-code-label = 驗證碼

idle-title = 您還在嗎？
idle-countdown = { $seconds } 秒後將返回首頁並清除您的資料
idle-more-time = 我需要更多時間

# Dates on the attract screen.
date-long = { $year }年{ $month }月{ $day }日 { $weekday }
weekday-1 = 星期一
weekday-2 = 星期二
weekday-3 = 星期三
weekday-4 = 星期四
weekday-5 = 星期五
weekday-6 = 星期六
weekday-7 = 星期日
month-1 = 1月
month-2 = 2月
month-3 = 3月
month-4 = 4月
month-5 = 5月
month-6 = 6月
month-7 = 7月
month-8 = 8月
month-9 = 9月
month-10 = 10月
month-11 = 11月
month-12 = 12月
# Pages of a list longer than the screen (page: "1 / 2").
page-previous = ‹ 上一頁
page-next = 下一頁 ›
page-of = 第 { $page } 頁
