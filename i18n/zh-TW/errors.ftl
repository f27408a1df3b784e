# Messages for things that go wrong. Each says what happened; `.action` says what to do.

error-generic = 發生了問題
    .action = 請重試；如果問題仍然存在，請在上班時間前往大廳窗口辦理。

card-error-reader = 讀卡機暫不可用
    .action = 請稍後再試，或在上班時間前往大廳窗口辦理。
card-error-no-card = 沒有偵測到卡片
    .action = 請將社會保障卡晶片朝上插入讀卡機。
card-error-removed = 卡片在讀取時被拔出
    .action = 請重新插入卡片，並在讀取完成前不要拔出。
card-error-unreadable = 無法讀取這張卡片
    .action = 請確認卡片插入方向正確（晶片朝上），擦拭晶片後重試。
card-error-unknown = 無法識別這張卡片
    .action = 請使用社會保障卡。
card-error-busy = 讀卡機忙碌中
    .action = 請稍等幾秒後重試。
card-error-pin-required = 這張卡片需要輸入密碼
    .action = 請輸入社會保障卡密碼。
card-error-wrong-pin = 密碼不正確
    .action = 請重新輸入密碼。多次輸錯將鎖定卡片。
card-error-pin-blocked = 卡片密碼已鎖定
    .action = 請攜帶身分證到社保窗口或銀行據點解鎖。

central-error-unreachable = 暫時無法連線政務服務平台
    .action = 請稍後再試。需要連網的服務暫停，其他服務仍可使用。
central-error-resident-not-found = 沒有查到您的資料
    .action = 請確認使用的是本人社會保障卡，或在上班時間前往窗口諮詢。
central-error-service-closed = 該服務目前不開放
    .action = 請在開放時間內辦理，或選擇其他服務。
central-error-failed = 政務服務平台暫時無法辦理
    .action = 請稍後再試；如果問題仍然存在，請在上班時間前往大廳窗口辦理。

print-error-paper-out = 印表機缺紙，無法列印
    .action = 您的證明已開立，可憑驗證碼在其他自助終端或窗口列印，或在手機上查看。
print-error-cover-open = 印表機蓋未關閉
    .action = 請聯絡工作人員，或稍後在其他自助終端列印。
print-error-offline = 印表機暫不可用
    .action = 您的證明已開立，可憑驗證碼在其他自助終端或窗口列印。
print-error-failed = 列印沒有完成
    .action = 請不要帶走不完整的紙張。您的證明已開立，可憑驗證碼重新列印。
print-error-jammed = 印表機故障（卡紙或切刀異常）
    .action = 請不要拉扯紙張。您的證明已開立，可憑驗證碼在其他自助終端或窗口列印。
print-error-interrupted = 列印中斷
    .action = 請不要帶走不完整的紙張。您的證明已開立，可憑驗證碼重新列印。
print-error-needs-staff = 印表機需要工作人員檢查
    .action = 您的證明已開立，可憑驗證碼在其他自助終端或窗口列印。
